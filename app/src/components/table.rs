//! A table of facts, one row per thing, or a sentence when there is none. Every cell carries its
//! column's name (`data-label`), which the narrow layout shows beside the value. The tables of
//! the Status and Troubleshoot tabs are all this one component, so the browser's WebAssembly has
//! one copy of a table's code instead of one per table.

use super::badge::Badge;
use super::time::Age;
use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;
use sidecar_api::Tone;

/// What a cell shows.
pub enum Cell {
    /// Words.
    Text(String),
    /// Words in a fixed-width font: names and reasons, which are copied and compared.
    Mono(String),
    /// A time as an age, with the exact time in its tooltip; empty when unknown.
    Age(Option<String>),
    /// A state as a badge.
    Badge(Tone, String),
}

/// A row: its cells in the columns' order, and a class for the whole row (`warning`).
pub struct Row {
    /// The row's class, if any.
    pub class: Option<&'static str>,
    /// One cell per column.
    pub cells: Vec<Cell>,
}

impl Row {
    /// A row without a class of its own.
    pub fn new(cells: Vec<Cell>) -> Self {
        Row { class: None, cells }
    }
}

/// The table: `caption` for screen readers, `columns` as its header, or `empty` in words when
/// `rows` is empty.
#[component]
pub fn DataTable(
    caption: &'static str,
    columns: &'static [&'static str],
    rows: Vec<Row>,
    empty: &'static str,
) -> impl IntoView {
    if rows.is_empty() {
        return Either::Left(view! { <p class="empty">{empty}</p> });
    }
    let head = columns.iter().map(|c| view! { <th scope="col">{*c}</th> }).collect_view();
    let body = rows
        .into_iter()
        .map(|row| {
            let cells = row.cells.into_iter().zip(columns).map(|(cell, label)| cell_view(cell, label)).collect_view();
            view! { <tr class=row.class>{cells}</tr> }
        })
        .collect_view();
    Either::Right(view! {
        <table class="list">
            <caption class="sr-only">{caption}</caption>
            <thead><tr>{head}</tr></thead>
            <tbody>{body}</tbody>
        </table>
    })
}

fn cell_view(cell: Cell, label: &'static str) -> impl IntoView {
    let (class, content) = match cell {
        Cell::Text(t) => (None, EitherOf3::A(t)),
        Cell::Mono(t) => (Some("mono"), EitherOf3::A(t)),
        Cell::Age(at) => (None, EitherOf3::B(at.map(|at| view! { <Age at/> }))),
        Cell::Badge(tone, words) => (None, EitherOf3::C(view! { <Badge tone words/> })),
    };
    view! { <td class=class data-label=label>{content}</td> }
}
