//! Integration tests of the pure domain.

mod props_hcl_blocks;
mod props_render;
