import { describe, expect, it } from 'vitest';
import { buildSteps } from './build-steps';

const decision = (value: string | null) => ({ value, evidence: 'test' });

describe('buildSteps', () => {
  it('installs, then builds', () => {
    expect(
      buildSteps({ installCommand: decision('npm ci'), buildCommand: decision('npm run build') }),
    ).toEqual([
      { id: 'install', name: 'Install dependencies', command: 'npm ci' },
      { id: 'build', name: 'Build', command: 'npm run build' },
    ]);
  });

  it('leaves out a step without a command', () => {
    expect(buildSteps({ installCommand: decision(null), buildCommand: decision('hugo') })).toEqual([
      { id: 'build', name: 'Build', command: 'hugo' },
    ]);
    expect(buildSteps({ installCommand: decision(null), buildCommand: decision(null) })).toEqual(
      [],
    );
  });
});
