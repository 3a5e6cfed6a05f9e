import { type CrowdAnswer, type CrowdRequest, ViewerCrowd } from './log-viewers';

/**
 * A crowd of viewers as a child process of the bench (`CrowdProcess`): the probe-line count is
 * its argument, the bench's requests come over IPC (join a socket, count presence frames, wait
 * for the end and report).
 */
const crowd = new ViewerCrowd(Number(process.argv[2]));

process.on('message', async (request: CrowdRequest & { id: number }) => {
  const answer = (value: unknown): CrowdAnswer => ({ id: request.id, value });
  try {
    if (request.op === 'join') {
      await crowd.join(request.url, request.protocols);
      process.send!(answer(null));
    } else if (request.op === 'presence') {
      process.send!(answer(crowd.presenceFrames));
    } else if (request.op === 'ended') {
      await crowd.ended(request.ms);
      const { latencies } = crowd;
      process.send!(
        answer({
          p50: latencies.percentile(0.5),
          p99: latencies.percentile(0.99),
          lost: crowd.lost(),
        }),
      );
    }
  } catch (error) {
    process.send!({ id: request.id, error: String(error) });
  }
});
