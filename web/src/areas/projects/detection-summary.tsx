import type { Schemas } from '../../api/client';

type Report = Schemas['DetectPreview']['detection'] & {};

/** What detection decided: framework (and why), package manager, commands, output, runtime. */
export function DetectionSummary({ detection }: { detection: Report }) {
  const rows: [string, string | null][] = [
    ['Framework', detection.framework],
    ['Why', detection.framework_evidence],
    ['Package manager', detection.package_manager],
    ['Install command', detection.install_command],
    ['Build command', detection.build_command],
    ['Output directory', detection.output_directory],
    ['Runtime', detection.runtime],
    ['Root directory', detection.root_dir || '/'],
  ];
  return (
    <dl className="grid grid-cols-1 gap-x-4 gap-y-1 text-sm sm:grid-cols-[10rem_1fr]">
      {rows.map(([label, value]) => (
        <div key={label} className="contents">
          <dt className="text-muted">{label}</dt>
          <dd className="break-words font-mono">{value ?? '—'}</dd>
        </div>
      ))}
    </dl>
  );
}
