//! Embeds the built console (`console/dist`: `index.html` + hashed files under
//! `assets/`) into the crate: every text file is compressed here, once, with
//! gzip and brotli at their highest levels, and a static table is generated in
//! `$OUT_DIR/embedded.rs`. Without a built console a placeholder page is embedded
//! (a warning says so; `DESK_CONSOLE_REQUIRED=1` makes that an error, for
//! packaging). The same code also embeds the test fixture under `tests/`.

use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

const PLACEHOLDER: &str = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Service Desk</title></head>\n<body><main><h1>Service Desk</h1><p>The web console was not built into this binary. Run <code>make console</code> (or <code>make dev</code>) and build again.</p></main></body></html>\n";

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let console = manifest.join("../../console");
    let dist = std::env::var_os("DESK_CONSOLE_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| console.join("dist"));
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=DESK_CONSOLE_DIST");
    println!("cargo:rerun-if-env-changed=DESK_CONSOLE_REQUIRED");

    let mut code = String::new();
    if dist.join("index.html").is_file() {
        // A directory is scanned recursively for changes.
        println!("cargo:rerun-if-changed={}", dist.display());
        embed(&dist, &out.join("console"), "EMBEDDED", true, &mut code);
    } else {
        if std::env::var("DESK_CONSOLE_REQUIRED").is_ok_and(|v| v == "1") {
            panic!(
                "DESK_CONSOLE_REQUIRED=1 but {} has no index.html: run `make console` first",
                dist.display()
            );
        }
        // Watch for the build appearing: the dist itself when console/ exists (a
        // missing path makes cargo re-run this script on every build, which is
        // cheap but relinks the dependents, so prefer an existing directory).
        if console.is_dir() {
            println!("cargo:rerun-if-changed={}", console.display());
        } else {
            println!("cargo:rerun-if-changed={}", dist.display());
        }
        println!(
            "cargo:warning=console/dist not found: embedding a placeholder page (run `make console` for the real console)"
        );
        let dir = out.join("placeholder");
        fs::create_dir_all(&dir).expect("placeholder dir");
        fs::write(dir.join("index.html"), PLACEHOLDER).expect("placeholder page");
        embed(
            &dir,
            &out.join("placeholder-compressed"),
            "EMBEDDED",
            false,
            &mut code,
        );
    }
    fs::write(out.join("embedded.rs"), code).expect("write embedded.rs");

    let fixture = manifest.join("tests/fixture-dist");
    println!("cargo:rerun-if-changed={}", fixture.display());
    let mut code = String::new();
    embed(&fixture, &out.join("fixture"), "FIXTURE", true, &mut code);
    fs::write(out.join("fixture.rs"), code).expect("write fixture.rs");
}

/// Appends `pub static NAME: Bundle = ...` for the dist in `dir` to `code`;
/// compressed copies go under `work`.
fn embed(dir: &Path, work: &Path, name: &str, real: bool, code: &mut String) {
    fs::create_dir_all(work).expect("work dir");
    let index = dir.join("index.html");
    let mut assets = Vec::new();
    let assets_dir = dir.join("assets");
    if assets_dir.is_dir() {
        walk(&assets_dir, &mut assets);
    }
    // Lookups are by binary search over the path.
    assets.sort();
    let index_entry = entry(dir, &index, work);
    let _ = writeln!(
        code,
        "pub static {name}: Bundle = Bundle {{ real: {real}, index: {index_entry}, assets: &["
    );
    for a in &assets {
        let _ = writeln!(code, "    {},", entry(dir, a, work));
    }
    let _ = writeln!(code, "] }};");
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out);
        } else if p.is_file() {
            out.push(p);
        }
    }
}

/// Content type by extension, and whether compressing it pays off.
fn content_type(path: &Path) -> (&'static str, bool) {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => ("text/html; charset=utf-8", true),
        "js" | "mjs" => ("text/javascript; charset=utf-8", true),
        "css" => ("text/css; charset=utf-8", true),
        "json" | "map" => ("application/json", true),
        "svg" => ("image/svg+xml", true),
        "txt" => ("text/plain; charset=utf-8", true),
        "wasm" => ("application/wasm", true),
        "ico" => ("image/x-icon", true),
        "png" => ("image/png", false),
        "jpg" | "jpeg" => ("image/jpeg", false),
        "gif" => ("image/gif", false),
        "webp" => ("image/webp", false),
        "avif" => ("image/avif", false),
        "woff2" => ("font/woff2", false),
        "woff" => ("font/woff", false),
        _ => ("application/octet-stream", false),
    }
}

fn entry(root: &Path, file: &Path, work: &Path) -> String {
    let bytes = fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let rel = file
        .strip_prefix(root)
        .expect("under the dist")
        .to_str()
        .unwrap_or_else(|| panic!("{}: not UTF-8", file.display()))
        .replace('\\', "/");
    let digest = Sha256::digest(&bytes);
    let etag: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    let (ctype, compressible) = content_type(file);
    let (mut gzip, mut br) = (String::from("None"), String::from("None"));
    if compressible {
        let stem = format!("{etag}-{}", rel.replace('/', "_"));
        let gz = gzip_bytes(&bytes);
        // Only kept when smaller: otherwise the identity bytes are better for everyone.
        if gz.len() < bytes.len() {
            let p = work.join(format!("{stem}.gz"));
            fs::write(&p, &gz).expect("write gzip");
            gzip = format!("Some(include_bytes!({:?}))", p.display().to_string());
        }
        let b = brotli_bytes(&bytes);
        if b.len() < bytes.len() {
            let p = work.join(format!("{stem}.br"));
            fs::write(&p, &b).expect("write brotli");
            br = format!("Some(include_bytes!({:?}))", p.display().to_string());
        }
    }
    let abs = fs::canonicalize(file).expect("canonical path");
    format!(
        "Asset {{ path: {rel:?}, content_type: {ctype:?}, etag: {etag:?}, identity: include_bytes!({:?}), gzip: {gzip}, brotli: {br} }}",
        abs.display().to_string()
    )
}

fn gzip_bytes(input: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(input).expect("gzip");
    enc.finish().expect("gzip")
}

fn brotli_bytes(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 4096, 11, 22);
        w.write_all(input).expect("brotli");
    }
    out
}
