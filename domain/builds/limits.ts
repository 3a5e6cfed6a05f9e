import { OUTPUT_MAX_BYTES } from '../../core/build-output';

/** Time past the build timeout for the runner to upload the output and report the result. */
export const COMPLETION_MARGIN_MS = 5 * 60_000;

// One limit for the build output, however the runner uploads it.
export const ARTIFACT_MAX_BYTES = OUTPUT_MAX_BYTES;
