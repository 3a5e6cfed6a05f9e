/** One metric over the window's days or weeks: hand-drawn SVG bars, no chart library. */
export function BarChart({
  label,
  points,
  format,
}: {
  label: string;
  points: { from: string; value: number | null }[];
  format: (value: number | null) => string;
}) {
  const width = 300;
  const height = 60;
  const max = Math.max(0, ...points.map((point) => point.value ?? 0));
  const slot = width / Math.max(points.length, 1);
  return (
    <svg
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label={`${label} over time`}
      className="h-16 w-full text-accent"
      preserveAspectRatio="none"
    >
      <line x1={0} x2={width} y1={height - 0.5} y2={height - 0.5} className="stroke-line" />
      {points.map((point, index) => {
        const bar = max > 0 && point.value !== null ? (point.value / max) * (height - 4) : 0;
        return (
          <rect
            key={point.from}
            x={index * slot + slot * 0.15}
            width={slot * 0.7}
            y={height - Math.max(bar, point.value === null ? 0 : 1)}
            height={Math.max(bar, point.value === null ? 0 : 1)}
            className="fill-current"
          >
            <title>{`${point.from.slice(0, 10)}: ${format(point.value)}`}</title>
          </rect>
        );
      })}
    </svg>
  );
}
