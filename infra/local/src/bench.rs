//! List-page benchmark (filled in below).
pub async fn run(_args: &[String]) -> Result<(), String> {
    Err("not yet".into())
}
