//! The standard texts replies are written with: text modules (administrators
//! write, agents read and use them, filled for a ticket), the desk's signature and
//! each user's own.

use desk_domain::mail::text_modules::{
    NewTextModule, OwnSignature, SignatureUpdate, TextModuleUpdate,
};
use desk_domain::Caller;
use http::{Method, StatusCode};
use lambda_http::Request;
use serde_json::json;

use crate::body::{json, no_query};
use crate::routes::{method_not_allowed, ticket_number, Res};
use crate::{App, Reply};

/// Whether `segments` is one of these routes.
pub(crate) fn owns(segments: &[&str]) -> bool {
    matches!(
        segments,
        ["text-modules", ..]
            | ["settings", "signature"]
            | ["me", "signature"]
            | ["tickets", _, "text-modules", _]
    )
}

pub(crate) async fn route(
    app: &App,
    req: &Request,
    caller: &Caller,
    method: &Method,
    segments: &[&str],
) -> Res {
    let desk = &app.desk;
    no_query(req)?;
    match (method.as_str(), segments) {
        ("GET", ["text-modules"]) => Reply::ok(&json!({"items": desk.text_modules(caller).await?})),
        ("POST", ["text-modules"]) => {
            caller.require_admin()?;
            let input: NewTextModule = json(req)?;
            let module = desk.create_text_module(caller, input).await?;
            Ok(Reply::json(StatusCode::CREATED, &module)?.header(
                http::header::LOCATION,
                format!("/text-modules/{}", module.id),
            ))
        }
        ("GET", ["text-modules", id]) => Reply::ok(&desk.text_module(caller, id).await?),
        ("PUT", ["text-modules", id]) => {
            caller.require_admin()?;
            let input: TextModuleUpdate = json(req)?;
            Reply::ok(&desk.update_text_module(caller, id, input).await?)
        }
        ("DELETE", ["text-modules", id]) => {
            caller.require_admin()?;
            desk.delete_text_module(caller, id).await?;
            Ok(Reply::no_content())
        }
        ("GET", ["tickets", id, "text-modules", module]) => {
            let number = ticket_number(id)?;
            Reply::ok(&desk.filled_text_module(caller, number, module).await?)
        }
        ("GET", ["settings", "signature"]) => Reply::ok(&desk.desk_signature(caller).await?),
        ("PUT", ["settings", "signature"]) => {
            caller.require_admin()?;
            let input: SignatureUpdate = json(req)?;
            Reply::ok(&desk.set_desk_signature(caller, input).await?)
        }
        ("PUT", ["me", "signature"]) => {
            let input: OwnSignature = json(req)?;
            Reply::ok(&desk.set_own_signature(caller, input).await?)
        }
        _ => Err(method_not_allowed(
            crate::routes::allowed(segments).unwrap_or(""),
        )),
    }
}
