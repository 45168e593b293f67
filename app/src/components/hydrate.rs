//! A part of a page hydrated in one go.
//!
//! A page whose code comes in chunks hydrates asynchronously: a part may wait for its chunk.
//! Leptos then hydrates every element below such a point asynchronously too, and the compiler
//! writes an async state machine for each view type, besides the synchronous code it also
//! keeps. A part that waits for nothing inside (no lazy code, no `Suspense`) can be hydrated
//! synchronously once its own chunk is there: wrapped in [`Synchronous`], the state machine is
//! not written (what the Logs and Troubleshoot tabs add to their page is a quarter to a third
//! smaller).

use leptos::attr::any_attribute::AnyAttribute;
use leptos::attr::Attribute;
use leptos::tachys::hydration::Cursor;
use leptos::tachys::ssr::StreamBuilder;
use leptos::tachys::view::add_attr::AddAnyAttr;
use leptos::tachys::view::{Position, PositionState, Render, RenderHtml};

/// `view`, hydrated synchronously even where the page hydrates asynchronously. Only for views
/// with no lazy code and no `Suspense` inside: those need to wait while hydrating.
pub struct Synchronous<T>(pub T);

impl<T: Render> Render for Synchronous<T> {
    type State = T::State;

    fn build(self) -> Self::State {
        self.0.build()
    }

    fn rebuild(self, state: &mut Self::State) {
        self.0.rebuild(state)
    }
}

impl<T: RenderHtml> RenderHtml for Synchronous<T> {
    type AsyncOutput = T::AsyncOutput;
    type Owned = Synchronous<T::Owned>;

    const MIN_LENGTH: usize = T::MIN_LENGTH;
    const EXISTS: bool = T::EXISTS;

    async fn resolve(self) -> Self::AsyncOutput {
        self.0.resolve().await
    }

    fn dry_resolve(&mut self) {
        self.0.dry_resolve();
    }

    fn to_html_with_buf(
        self,
        buf: &mut String,
        position: &mut Position,
        escape: bool,
        mark_branches: bool,
        extra_attrs: Vec<AnyAttribute>,
    ) {
        self.0.to_html_with_buf(buf, position, escape, mark_branches, extra_attrs);
    }

    fn to_html_async_with_buf<const OUT_OF_ORDER: bool>(
        self,
        buf: &mut StreamBuilder,
        position: &mut Position,
        escape: bool,
        mark_branches: bool,
        extra_attrs: Vec<AnyAttribute>,
    ) where
        Self: Sized,
    {
        self.0.to_html_async_with_buf::<OUT_OF_ORDER>(buf, position, escape, mark_branches, extra_attrs);
    }

    fn hydrate<const FROM_SERVER: bool>(self, cursor: &Cursor, position: &PositionState) -> Self::State {
        self.0.hydrate::<FROM_SERVER>(cursor, position)
    }

    async fn hydrate_async(self, cursor: &Cursor, position: &PositionState) -> Self::State {
        // What `RenderHtml` does for a type that never waits: the view was server-rendered, and
        // nothing in it has to be waited for.
        self.0.hydrate::<true>(cursor, position)
    }

    fn into_owned(self) -> Self::Owned {
        Synchronous(self.0.into_owned())
    }
}

impl<T: AddAnyAttr> AddAnyAttr for Synchronous<T> {
    type Output<SomeNewAttr: Attribute> = Synchronous<T::Output<SomeNewAttr>>;

    fn add_any_attr<NewAttr: Attribute>(self, attr: NewAttr) -> Self::Output<NewAttr>
    where
        Self::Output<NewAttr>: RenderHtml,
    {
        Synchronous(self.0.add_any_attr(attr))
    }
}
