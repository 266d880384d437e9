//! Recording Web Vitals in one call.

use super::Monitor;
use crate::error::Result;
use crate::series::Tag;
use crate::web_vitals::{WebVitals, WebVitalsRatings};

impl Monitor {
    /// Records every vital given into its histogram (`web_vitals.lcp`, …,
    /// with `tags`) and returns their ratings. All or nothing: if a value
    /// cannot be recorded (negative, NaN, infinite), it is counted as
    /// rejected in its histogram, the error is returned and no value is
    /// recorded.
    ///
    /// ```
    /// use perf_core::{Monitor, Rating, WebVitals};
    /// let monitor = Monitor::builder().build()?;
    /// let vitals = WebVitals { lcp: Some(3100.0), cls: Some(0.02), ..WebVitals::default() };
    /// let ratings = monitor.record_web_vitals(&vitals, &[("page", "/home")])?;
    /// assert_eq!(ratings.lcp, Some(Rating::NeedsImprovement));
    /// assert_eq!(monitor.stats("web_vitals.lcp", &[("page", "/home")])?.count, 1);
    /// let bad = WebVitals { lcp: Some(1.0), inp: Some(-5.0), ..WebVitals::default() };
    /// assert!(monitor.record_web_vitals(&bad, &[("page", "/home")]).is_err());
    /// assert_eq!(monitor.stats("web_vitals.lcp", &[("page", "/home")])?.count, 1);
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn record_web_vitals(
        &self,
        vitals: &WebVitals,
        tags: &[Tag<'_>],
    ) -> Result<WebVitalsRatings> {
        let handles = vitals
            .given()
            .map(|(metric, value)| Ok((self.histogram(metric, tags)?, value)))
            .collect::<Result<Vec<_>>>()?;
        for (histogram, value) in &handles {
            if !(value.is_finite() && *value >= 0.0) {
                histogram.record(*value)?;
            }
        }
        for (histogram, value) in &handles {
            histogram.record(*value)?;
        }
        Ok(vitals.rate())
    }
}
