//! Sharing: links to a gallery or an album (`/api/shares`, `/api/shared/{token}`) and
//! albums shared with people who have accounts (`/api/albums/{albumId}/members`,
//! `/api/shared-with-me`).

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lambda_http::request::RequestContext;

use super::extract::{ApiJson, PageQuery, parse_id};
use crate::app::App;
use crate::contract::{
    AddMemberRequest, CreateShareRequest, Member, MemberList, Share, ShareCreated, ShareList,
    SharedAlbumSummary, SharedView, SharedWithMe,
};
use crate::domain::Caller;
use crate::error::ApiError;
use crate::repo::shares::{LinkRow, MemberRow};
use crate::usecase::share_albums;
use crate::usecase::share_links::{self, Attempt, Target};

/// The header a viewer sends a link's password in, percent-encoded UTF-8
/// (`encodeURIComponent`), so any password fits in a header.
pub const PASSWORD_HEADER: &str = "share-password";

fn share_body(link: LinkRow) -> Share {
    Share {
        share_id: link.id,
        kind: if link.album_id.is_some() {
            "album"
        } else {
            "gallery"
        }
        .into(),
        gallery_id: link.gallery_id,
        album_id: link.album_id,
        album_title: link.album_title,
        has_password: link.password_hash.is_some(),
        allow_download: link.allow_download,
        show_location: link.show_location,
        expires_at: link.expires_at,
        view_count: link.view_count,
        last_viewed_at: link.last_viewed_at,
        created_at: link.created_at,
    }
}

/// Where the link's page is: this API's own origin as the client reached it (API
/// Gateway sets `X-Forwarded-Proto`; `serve` is plain HTTP).
fn page_url(headers: &HeaderMap, token: &str) -> String {
    let value = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(',').next().unwrap_or("").trim().to_string())
            .filter(|v| !v.is_empty())
    };
    match value("host") {
        Some(host) => {
            let scheme = value("x-forwarded-proto").unwrap_or_else(|| "http".into());
            format!("{scheme}://{host}/s/{token}")
        }
        None => format!("/s/{token}"),
    }
}

async fn create(
    app: &App,
    caller: &Caller,
    headers: &HeaderMap,
    target: Target,
    request: CreateShareRequest,
) -> Result<(StatusCode, Json<ShareCreated>), ApiError> {
    let created = share_links::create(app, caller, target, request).await?;
    let url = page_url(headers, &created.token);
    Ok((
        StatusCode::CREATED,
        Json(ShareCreated {
            share: share_body(created.link),
            url,
        }),
    ))
}

/// POST /api/galleries/{galleryId}/shares
pub async fn share_gallery(
    State(app): State<App>,
    caller: Caller,
    headers: HeaderMap,
    Path(gallery_id): Path<String>,
    ApiJson(body): ApiJson<CreateShareRequest>,
) -> Result<(StatusCode, Json<ShareCreated>), ApiError> {
    let target = Target::Gallery(parse_id(&gallery_id, "gallery")?);
    create(&app, &caller, &headers, target, body).await
}

/// POST /api/albums/{albumId}/shares
pub async fn share_album(
    State(app): State<App>,
    caller: Caller,
    headers: HeaderMap,
    Path(album_id): Path<String>,
    ApiJson(body): ApiJson<CreateShareRequest>,
) -> Result<(StatusCode, Json<ShareCreated>), ApiError> {
    let target = Target::Album(parse_id(&album_id, "album")?);
    create(&app, &caller, &headers, target, body).await
}

/// GET /api/shares
pub async fn list_shares(
    State(app): State<App>,
    caller: Caller,
    page: PageQuery,
) -> Result<Json<ShareList>, ApiError> {
    let (rows, next_cursor) =
        share_links::list(&app, &caller, page.cursor.as_deref(), page.limit).await?;
    Ok(Json(ShareList {
        shares: rows.into_iter().map(share_body).collect(),
        next_cursor,
    }))
}

/// DELETE /api/shares/{shareId}
pub async fn revoke_share(
    State(app): State<App>,
    caller: Caller,
    Path(share_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    share_links::revoke(&app, &caller, parse_id(&share_id, "share")?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The address a request came from: API Gateway's `sourceIp` on AWS, the TCP peer
/// under `serve`.
pub struct ClientAddress(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        if let Some(RequestContext::ApiGatewayV2(ctx)) = parts.extensions.get::<RequestContext>()
            && let Some(ip) = &ctx.http.source_ip
        {
            return Ok(Self(ip.clone()));
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or_else(|| "unknown".to_string(), |c| c.0.ip().to_string());
        Ok(Self(peer))
    }
}

/// A shared view is never cached anywhere (its URLs expire; a revoked link must stop at
/// once) and its page's address is not sent on as a referrer.
fn private(view: SharedView) -> Response {
    let mut response = Json(view).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// GET /api/shared/{token} (no sign-in)
pub async fn open_shared(
    State(app): State<App>,
    Path(token): Path<String>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let password = match headers.get(PASSWORD_HEADER) {
        None => None,
        Some(raw) => Some(
            percent_encoding::percent_decode(raw.as_bytes())
                .decode_utf8()
                .map_err(|_| {
                    ApiError::bad_request(
                        "invalid_password_header",
                        "Send the password in `Share-Password` as percent-encoded UTF-8 \
                         (JavaScript's encodeURIComponent).",
                    )
                })?
                .into_owned(),
        ),
    };
    let attempt = Attempt {
        password: password.as_deref(),
        address: &address,
    };
    Ok(private(share_links::open(&app, &token, attempt).await?))
}

fn member_body(row: MemberRow) -> Member {
    Member {
        album_id: row.album_id,
        subject: row.subject,
        role: row.role,
        added_at: row.added_at,
    }
}

/// POST /api/albums/{albumId}/members: 201 for a new member, 200 for one already there.
pub async fn add_member(
    State(app): State<App>,
    caller: Caller,
    Path(album_id): Path<String>,
    ApiJson(body): ApiJson<AddMemberRequest>,
) -> Result<(StatusCode, Json<Member>), ApiError> {
    let (row, new) = share_albums::add(
        &app,
        &caller,
        parse_id(&album_id, "album")?,
        &body.subject,
        body.role.as_deref(),
    )
    .await?;
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(member_body(row))))
}

/// GET /api/albums/{albumId}/members
pub async fn list_members(
    State(app): State<App>,
    caller: Caller,
    Path(album_id): Path<String>,
) -> Result<Json<MemberList>, ApiError> {
    let rows = share_albums::list(&app, &caller, parse_id(&album_id, "album")?).await?;
    Ok(Json(MemberList {
        members: rows.into_iter().map(member_body).collect(),
    }))
}

/// DELETE /api/albums/{albumId}/members/{subject}
pub async fn remove_member(
    State(app): State<App>,
    caller: Caller,
    Path((album_id, subject)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    share_albums::remove(&app, &caller, parse_id(&album_id, "album")?, &subject).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// GET /api/shared-with-me
pub async fn shared_with_me(
    State(app): State<App>,
    caller: Caller,
    page: PageQuery,
) -> Result<Json<SharedWithMe>, ApiError> {
    let (rows, next_cursor) =
        share_albums::shared_with_me(&app, &caller, page.cursor.as_deref(), page.limit).await?;
    Ok(Json(SharedWithMe {
        albums: rows
            .into_iter()
            .map(|l| SharedAlbumSummary {
                album_id: l.row.album_id,
                title: l.row.title,
                description: l.row.description,
                role: l.row.role,
                image_count: l.row.image_count,
                cover_thumb_url: l.cover_thumb_url,
                shared_at: l.row.added_at,
            })
            .collect(),
        next_cursor,
    }))
}

/// GET /api/shared-with-me/{albumId}
pub async fn open_shared_album(
    State(app): State<App>,
    caller: Caller,
    Path(album_id): Path<String>,
) -> Result<Response, ApiError> {
    let view = share_albums::open(&app, &caller, parse_id(&album_id, "album")?).await?;
    Ok(private(view))
}
