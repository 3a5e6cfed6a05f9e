import { type ReactNode, type SelectHTMLAttributes, useId } from 'react';

/** A select with its own label element (not wrapped, so the name is the label alone). */
export function SelectField({
  label,
  children,
  ...props
}: SelectHTMLAttributes<HTMLSelectElement> & { label: string; children: ReactNode }) {
  const id = useId();
  return (
    <div className="flex flex-col gap-1">
      <label htmlFor={id} className="text-sm font-medium">
        {label}
      </label>
      <select
        id={id}
        className="rounded-md border border-line bg-panel px-3 py-2 text-sm"
        {...props}
      >
        {children}
      </select>
    </div>
  );
}
