//! The build run one region at a time, each timed: what each region costs on its own, on the
//! whole pool, for the figures of rows per second by region.
//!
//! [`crate::build_trace`] runs the core fragments and the chiplet regions side by side, so its
//! wall time says nothing about any one region. [`profile_build`] builds the same trace (the
//! tests compare it with [`crate::build_trace`]'s) with the regions one after another: each
//! region's time is its own work: the fresh buffer's pages are first touched before the regions
//! run, as a step of its own (`first_touch`; on huge pages the region that ran first used to
//! pay for zeroing pages shared with the others). That step maps every page, also those a
//! real build never touches because they hold only zero padding (a fresh buffer is zero
//! already), so on a long-padded trace `first_touch` is more than the real build pays.

use std::{sync::Arc, time::Instant};

use weft_core::main_trace::{MainTrace, TraceLenSummary};
use weft_mast::MastForest;
use weft_replay::TraceContexts;

use crate::{CoreSource, Schedule, TraceGenError};

/// One region's share of a build run region by region.
#[derive(Clone, Debug, PartialEq)]
pub struct RegionTiming {
    /// The region: `first_touch` (mapping the fresh buffer's pages, all 71 columns of the
    /// reserved rows), `core` (the fragments' rows, with the `HALT` row), `hasher`, `bitwise`,
    /// `memory`, `ace+kernel_rom`, `range` (counting the values to check, then the table),
    /// `core_padding` or `chiplet_padding`.
    pub region: &'static str,
    /// The rows it wrote.
    pub rows: usize,
    /// The columns those rows span.
    pub columns: usize,
    /// Wall seconds.
    pub seconds: f64,
}

impl RegionTiming {
    /// Rows written per second (0 for a region with no time).
    pub fn rows_per_s(&self) -> f64 {
        if self.seconds > 0.0 {
            self.rows as f64 / self.seconds
        } else {
            0.0
        }
    }
}

/// What [`profile_build`] measured.
#[derive(Clone, Debug, PartialEq)]
pub struct BuildProfile {
    /// The regions in the order they ran.
    pub regions: Vec<RegionTiming>,
    /// The row counts that decided the trace's length.
    pub summary: TraceLenSummary,
    /// Wall seconds of the whole build, checks and allocation included.
    pub total_s: f64,
}

impl BuildProfile {
    /// Folds this build's timings into `fastest`, region by region (matched by name): each
    /// region keeps its least time over the builds folded in, and a region not yet there is
    /// added. What a benchmark keeps from repeated builds.
    pub fn fold_fastest_into(&self, fastest: &mut Vec<RegionTiming>) {
        for timing in &self.regions {
            match fastest.iter_mut().find(|f| f.region == timing.region) {
                Some(f) if timing.seconds < f.seconds => *f = timing.clone(),
                Some(_) => {}
                None => fastest.push(timing.clone()),
            }
        }
    }
}

/// Collects region timings while a build runs one region at a time.
#[derive(Debug, Default)]
pub(crate) struct RegionTimer {
    regions: Vec<RegionTiming>,
}

impl RegionTimer {
    /// Runs `region`, which writes `rows` rows of `columns` columns, and records its time.
    pub(crate) fn time<R>(
        &mut self,
        region: &'static str,
        rows: usize,
        columns: usize,
        f: impl FnOnce() -> R,
    ) -> R {
        self.time_after(region, rows, columns, 0.0, f)
    }

    /// [`RegionTimer::time`], adding `earlier_s` seconds the region spent before.
    pub(crate) fn time_after<R>(
        &mut self,
        region: &'static str,
        rows: usize,
        columns: usize,
        earlier_s: f64,
        f: impl FnOnce() -> R,
    ) -> R {
        let start = Instant::now();
        let result = f();
        self.regions.push(RegionTiming {
            region,
            rows,
            columns,
            seconds: earlier_s + start.elapsed().as_secs_f64(),
        });
        result
    }
}

/// Builds the trace like [`crate::build_trace`], on the current pool, but one region after
/// another, and reports each region's time.
///
/// # Errors
/// As [`crate::build_trace`].
pub fn profile_build(
    forests: &[Arc<MastForest>],
    contexts: &TraceContexts,
) -> Result<(MainTrace, BuildProfile), TraceGenError> {
    let start = Instant::now();
    let mut timer = RegionTimer::default();
    let (trace, summary) = crate::build(
        forests,
        contexts,
        None,
        CoreSource::Build,
        Schedule::OneByOne(&mut timer),
    )?;
    let profile = BuildProfile {
        regions: timer.regions,
        summary,
        total_s: start.elapsed().as_secs_f64(),
    };
    Ok((trace, profile))
}
