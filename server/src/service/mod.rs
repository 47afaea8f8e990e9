//! Services: the product's behaviour, behind the ports.

mod ui;

pub use ui::UiServices;
