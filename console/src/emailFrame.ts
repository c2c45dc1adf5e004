// Email HTML is shown only inside <iframe sandbox="" srcdoc=...>: the empty sandbox runs no script,
// submits no form, opens no popup and navigates nothing. The srcdoc's own CSP blocks every fetch
// except inline data: and cid: images, so a remote image (a tracking pixel) never loads.
export const EMAIL_CSP = "default-src 'none'; img-src data: cid:; style-src 'unsafe-inline'; font-src data:";

const escapeAttr = (s: string) => s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");

export function emailSrcdoc(html: string): string {
  return (
    `<!doctype html><html><head><meta charset="utf-8">` +
    `<meta http-equiv="Content-Security-Policy" content="${escapeAttr(EMAIL_CSP)}">` +
    `<meta name="referrer" content="no-referrer">` +
    `</head><body>${html}</body></html>`
  );
}

/**
 * Inline images (`<img src="cid:logo@x">`) point at the mail's own parts, which a browser cannot
 * resolve: the console fetches those parts (with the bearer header) and puts them in as data:
 * URLs, which the frame's CSP allows. Unknown cids stay as they are (and load nothing).
 */
export function inlineCids(html: string, dataUrls: Map<string, string>): string {
  return html.replace(/(["'(])cid:([^"')\s>]+)/gi, (whole, open: string, cid: string) => {
    const url = dataUrls.get(cid.replace(/^<|>$/g, "").toLowerCase());
    return url ? `${open}${url}` : whole;
  });
}
