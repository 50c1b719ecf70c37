// The calls an item went through before it was dead-lettered, oldest first, as the dead
// letter records them (an HTTP status only where the call had one of its own: an entity's
// error inside a multi-status answer has none).
import type { DeadLetterDetail } from '../api.js';
import { time } from '../format.js';

export function AttemptList({ attempts }: { attempts: DeadLetterDetail['attempts'] }) {
  return (
    <ol>
      {attempts.map((a) => (
        <li>
          {`${time(new Date(a.at).toISOString())}: ${a.outcome} ${a.reason ?? ''}${a.httpStatus === null ? '' : ` (HTTP ${a.httpStatus})`} ${a.message ?? ''}`}
        </li>
      ))}
    </ol>
  );
}
