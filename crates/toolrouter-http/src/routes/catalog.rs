//! The catalog on the wire: toolkits, categories and tools (Composio's `/api/v3.1/toolkits…`
//! and `/api/v3.1/tools…`). Filters are parsed here; selection, ranking and paging are the app's.

use axum::Json;
use axum::extract::{Path, State};
use toolrouter_api::catalog::{Category, Paginated, Tool, ToolkitDetail, ToolkitItem};
use toolrouter_app::catalog::{ManagedBy, ToolQuery, ToolkitQuery, ToolkitSort};

use crate::extract::Auth;
use crate::query::Params;
use crate::{ApiError, AppState, views};

/// `GET /toolkits?category&search&sort_by&managed_by&limit&cursor`
pub(crate) async fn toolkit_list(
    State(state): State<AppState>,
    Auth(_): Auth,
    params: Params,
) -> Result<Json<Paginated<ToolkitItem>>, ApiError> {
    let query = ToolkitQuery {
        category: params.get("category").map(str::to_owned),
        search: params.get("search").map(str::to_owned),
        sort: match params.one_of("sort_by", &["usage", "alphabetically"])? {
            Some("alphabetically") => ToolkitSort::Alphabetical,
            _ => ToolkitSort::Usage,
        },
        managed_by: match params.one_of("managed_by", &["all", "composio", "project"])? {
            Some("composio") => ManagedBy::Server,
            Some("project") => ManagedBy::Project,
            _ => ManagedBy::All,
        },
    };
    let catalog = state.app.catalog();
    let page = catalog.toolkit_list(&query, &params.page()?)?;
    let loaded_at = catalog.loaded_at();
    Ok(Json(views::page(page, |tk| {
        views::toolkit_item(&state.app, tk, loaded_at)
    })))
}

/// `GET /toolkits/{slug}`
pub(crate) async fn toolkit_get(
    State(state): State<AppState>,
    Auth(_): Auth,
    Path(slug): Path<String>,
) -> Result<Json<ToolkitDetail>, ApiError> {
    let catalog = state.app.catalog();
    let tk = catalog.toolkit(&slug)?;
    Ok(Json(views::toolkit_detail(
        &state.app,
        &tk,
        catalog.loaded_at(),
    )))
}

/// `GET /toolkits/categories`: every category, on one page.
pub(crate) async fn categories(
    State(state): State<AppState>,
    Auth(_): Auth,
) -> Json<Paginated<Category>> {
    let items: Vec<Category> = state
        .app
        .catalog()
        .categories()
        .iter()
        .map(views::category)
        .collect();
    Json(Paginated {
        next_cursor: None,
        total_pages: 1,
        current_page: 1,
        total_items: items.len() as u64,
        items,
    })
}

/// `GET /tools?toolkit_slug&tool_slugs&tags&search|query&important&limit&cursor`
pub(crate) async fn tool_list(
    State(state): State<AppState>,
    Auth(_): Auth,
    params: Params,
) -> Result<Json<Paginated<Tool>>, ApiError> {
    let query = ToolQuery {
        tools: params.list("tool_slugs"),
        toolkits: params.list("toolkit_slug"),
        tags: params.list("tags"),
        // `query` is the current name, `search` the deprecated one; both are in use.
        search: params
            .get("query")
            .or_else(|| params.get("search"))
            .map(str::to_owned),
        important: params.bool("important")?.unwrap_or(false),
    };
    let page = state.app.catalog().tool_list(&query, &params.page()?)?;
    Ok(Json(views::page(page, views::tool)))
}

/// `GET /tools/enum`: every tool slug.
pub(crate) async fn tool_enum(State(state): State<AppState>, Auth(_): Auth) -> Json<Vec<String>> {
    Json(state.app.catalog().tool_slugs())
}

/// `GET /tools/{slug}?version&toolkit_versions`. Each definition has one version, so
/// `toolkit_versions` (any form) selects nothing and is accepted as is.
pub(crate) async fn tool_get(
    State(state): State<AppState>,
    Auth(_): Auth,
    Path(slug): Path<String>,
    params: Params,
) -> Result<Json<Tool>, ApiError> {
    let found = state.app.catalog().tool_get(&slug, params.get("version"))?;
    Ok(Json(views::tool(&found)))
}
