import { useEffect, useRef } from "preact/hooks";

export const SHORTCUTS: [string, string][] = [
  ["j / k", "next / previous ticket"],
  ["o", "open the selected ticket (or double-click it)"],
  ["r", "reply (in a ticket)"],
  ["n", "add a note (in a ticket)"],
  ["/", "search"],
  ["g q", "go to the Service Queue"],
  ["g t", "go to the tickets"],
  ["?", "show this list"],
  ["Esc", "close a dialog or panel"],
];

const typing = (t: EventTarget | null) =>
  t instanceof HTMLElement && (t.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(t.tagName));

/** Keys handled everywhere: ?, /, g q, g t. Views handle their own (j, k, o, r, n). */
export function useGlobalShortcuts(toggleHelp: () => void): void {
  useEffect(() => {
    let g = false;
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
      if (e.key === "?") {
        e.preventDefault();
        toggleHelp();
      } else if (e.key === "/") {
        const search = document.querySelector<HTMLInputElement>("input[type=search]");
        if (search) {
          e.preventDefault();
          search.focus();
        }
      } else if (g && (e.key === "q" || e.key === "t")) {
        window.history.pushState(null, "", e.key === "q" ? "/app/queue" : "/app/tickets");
        window.dispatchEvent(new PopStateEvent("popstate"));
      }
      g = e.key === "g";
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, []);
}

/**
 * A view's own single-key shortcuts, ignored while typing. The handler reads the latest map on
 * every key, so a key pressed right after a render acts on what the agent sees.
 */
export function useKeys(map: Record<string, () => void>): void {
  const latest = useRef(map);
  latest.current = map;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
      const f = latest.current[e.key];
      if (f) {
        e.preventDefault();
        f();
      }
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, []);
}

export function Shortcuts({ onClose }: { onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    ref.current?.showModal();
  }, []);
  return (
    <dialog ref={ref} class="dialog" aria-labelledby="shortcuts-title" onClose={onClose}>
      <h2 id="shortcuts-title">Keyboard shortcuts</h2>
      <table>
        <tbody>
          {SHORTCUTS.map(([k, what]) => (
            <tr key={k}>
              <th scope="row">
                <kbd>{k}</kbd>
              </th>
              <td>{what}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <button type="button" onClick={() => ref.current?.close()}>
        Close
      </button>
    </dialog>
  );
}
