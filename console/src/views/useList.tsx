// A list an admin view shows: loaded now and every 15 s while visible; `run` does an action,
// reloads, then shows its message (or the error).
import { useState } from "preact/hooks";
import { usePoll } from "../hooks";
import { ErrorNotice } from "../ui";

/** Loads a list now and every 15 s while visible; `run` does an action and reloads. */
export function useList<T>(load: () => Promise<T[]>) {
  const [items, setItems] = useState<T[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [ok, setOk] = useState<string | null>(null);
  const reload = async () => {
    try {
      setItems(await load());
      setError(null);
    } catch (e) {
      setError(e);
    }
  };
  usePoll(reload, 15_000, []);
  const run = async (what: () => Promise<string>): Promise<boolean> => {
    setOk(null);
    try {
      const message = await what();
      await reload(); // the message shows once the list reflects it
      setOk(message);
      setError(null);
      return true;
    } catch (e) {
      setError(e);
      return false;
    }
  };
  const status = (
    <>
      <ErrorNotice error={error} onRetry={reload} />
      {ok && (
        <p role="status" class="ok">
          {ok}
        </p>
      )}
    </>
  );
  return { items, run, status };
}

