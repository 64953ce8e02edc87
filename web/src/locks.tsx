/** The Locks section: key (folders as folders), mode, holder, feature, fencing token, lease countdown and the queue behind each key. */
import { clock } from "./format.js";
import type { DashboardState, KeyKind, LockRow, WaiterRow } from "./types.js";
import { Countdown, Empty, Section } from "./ui.js";

const KIND_LABEL: Record<KeyKind, string> = { file: "file", folder: "folder", table: "table", resource: "resource" };

/** A key with its kind spelled out: `folder src/api/ (and below)`. */
export function KeyName(props: { k: string; kind: KeyKind }) {
  const shown = props.kind === "table" || props.kind === "resource" ? props.k.slice(props.kind.length + 1) : props.k;
  return (
    <span class={`key key-${props.kind}`}>
      <span class="badge kind">{KIND_LABEL[props.kind]}</span> <code>{shown}</code>
      {props.kind === "folder" && <span class="meta"> and everything below</span>}
    </span>
  );
}

function Mode(props: { mode: "read" | "write" }) {
  return props.mode === "write" ? (
    <span class="badge mode-write">
      <span aria-hidden="true">■</span> write
    </span>
  ) : (
    <span class="badge mode-read">
      <span aria-hidden="true">□</span> read
    </span>
  );
}

function Queue(props: { queue: WaiterRow[]; showKeys?: boolean }) {
  if (props.queue.length === 0) return <span class="muted">none</span>;
  return (
    <ol class="queue">
      {props.queue.map((w, i) => (
        <li key={`${w.agent_id}-${w.enqueued_at}-${i}`}>
          {w.agent_id} <Mode mode={w.mode} />
          {w.feature_id !== null && <span class="meta"> {w.feature_id}</span>}
          {props.showKeys === true && (
            <span>
              {" "}
              on <code>{w.keys.slice(0, 5).join(", ")}</code>
              {w.keys.length > 5 ? ` and ${w.keys.length - 5} more` : ""}
            </span>
          )}
          <span class="meta">
            {" "}
            since {clock(w.enqueued_at)}, gives up in <Countdown ms={w.gives_up_in_ms} warnBelowMs={0} />
          </span>
        </li>
      ))}
    </ol>
  );
}

function LockLine(props: { l: LockRow }) {
  const l = props.l;
  return (
    <tr data-lock-key={l.key}>
      <th scope="row">
        <KeyName k={l.key} kind={l.kind} />
      </th>
      <td>
        <Mode mode={l.mode} />
      </td>
      <td class="nowrap">{l.agent_id}</td>
      <td class="nowrap">{l.feature_id ?? <span class="muted">—</span>}</td>
      <td class="num">{l.fencing_token}</td>
      <td>
        <Countdown ms={l.lease_left_ms} />
        <div class="meta">until {clock(l.expires_at)}</div>
      </td>
      <td>
        <Queue queue={l.queue} />
      </td>
    </tr>
  );
}

export function LocksSection(props: { state: DashboardState }) {
  const { locks, locks_omitted, waiting } = props.state;
  const queued = locks.reduce((n, l) => n + l.queue.length, 0) + waiting.length;
  return (
    <Section id="locks" title="Locks" count={`${locks.length + locks_omitted} held, ${queued} waiting`}>
      {locks.length === 0 ? (
        <Empty>No lock is held.</Empty>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Key</th>
                <th scope="col">Mode</th>
                <th scope="col">Holder</th>
                <th scope="col">Feature</th>
                <th scope="col">Fencing token</th>
                <th scope="col">Lease left</th>
                <th scope="col">Queue</th>
              </tr>
            </thead>
            <tbody>
              {locks.map((l) => (
                <LockLine key={`${l.key}-${l.fencing_token}`} l={l} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {locks_omitted > 0 && <p class="meta">{locks_omitted} more locks not listed.</p>}
      {waiting.length > 0 && (
        <>
          <h3>Waiting behind other requests</h3>
          <Queue queue={waiting} showKeys />
        </>
      )}
    </Section>
  );
}
