//! How much each product is used: console queries, exports and downloads that read it, per day and per role.
//! Fed by the audit log (and rebuilt from it at start), shown on product pages and used as a search ranking signal.

use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

const DAY_MS: u64 = 86_400_000;
/// Days that count as "recent" (for ranking and the product page).
pub const RECENT_DAYS: u64 = 30;

#[derive(Debug, Default, Clone)]
struct ProductUsage {
    /// Day number (days since the epoch) → queries.
    days: BTreeMap<u64, u64>,
    roles: BTreeMap<String, u64>,
    total: u64,
}

#[derive(Default)]
pub struct Usage {
    by_product: Mutex<HashMap<String, ProductUsage>>,
}

/// What a product page shows.
#[derive(Debug, Clone, Default, Serialize)]
pub struct UsageSummary {
    pub total: u64,
    pub last_30_days: u64,
    /// (date, queries) for each of the last 14 days, oldest first.
    pub per_day: Vec<(String, u64)>,
    /// (role, queries), most active first.
    pub roles: Vec<(String, u64)>,
}

impl Usage {
    pub fn record(&self, products: &[String], role: &str, at_ms: u64) {
        let day = at_ms / DAY_MS;
        let mut map = self.by_product.lock().unwrap_or_else(|e| e.into_inner());
        for p in products {
            let u = map.entry(p.clone()).or_default();
            *u.days.entry(day).or_default() += 1;
            *u.roles.entry(role.to_string()).or_default() += 1;
            u.total += 1;
        }
    }

    /// Replays an audit log (JSON lines); unreadable lines are skipped.
    pub fn replay(&self, audit_file: &std::path::Path) {
        let Ok(text) = std::fs::read_to_string(audit_file) else {
            return;
        };
        for line in text.lines() {
            if let Ok(e) = serde_json::from_str::<crate::governance::audit::Entry>(line)
                && e.outcome == "ok"
            {
                self.record(&e.products, &e.role, e.at);
            }
        }
    }

    /// Queries in the last 30 days.
    pub fn recent(&self, product: &str, now_ms: u64) -> u64 {
        let from = (now_ms / DAY_MS).saturating_sub(RECENT_DAYS - 1);
        let map = self.by_product.lock().unwrap_or_else(|e| e.into_inner());
        map.get(product)
            .map(|u| u.days.range(from..).map(|(_, n)| n).sum())
            .unwrap_or(0)
    }

    /// Recent counts of every product at once (for ranking a whole result list under one lock).
    pub fn recent_all(&self, now_ms: u64) -> HashMap<String, u64> {
        let from = (now_ms / DAY_MS).saturating_sub(RECENT_DAYS - 1);
        let map = self.by_product.lock().unwrap_or_else(|e| e.into_inner());
        map.iter()
            .map(|(k, u)| (k.clone(), u.days.range(from..).map(|(_, n)| n).sum()))
            .collect()
    }

    pub fn summary(&self, product: &str, now_ms: u64) -> UsageSummary {
        let map = self.by_product.lock().unwrap_or_else(|e| e.into_inner());
        let Some(u) = map.get(product) else {
            return UsageSummary::default();
        };
        let today = now_ms / DAY_MS;
        let mut roles: Vec<(String, u64)> = u.roles.iter().map(|(r, n)| (r.clone(), *n)).collect();
        roles.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        UsageSummary {
            total: u.total,
            last_30_days: u
                .days
                .range(today.saturating_sub(RECENT_DAYS - 1)..)
                .map(|(_, n)| n)
                .sum(),
            per_day: (0..14)
                .rev()
                .map(|back| {
                    let day = today.saturating_sub(back);
                    let date = crate::base::format::utc_time(day * DAY_MS)[..10].to_string();
                    (date, u.days.get(&day).copied().unwrap_or(0))
                })
                .collect(),
            roles,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_day_and_role() {
        let u = Usage::default();
        let day = 20_000 * DAY_MS;
        u.record(&["sales/orders".into()], "analyst", day);
        u.record(&["sales/orders".into(), "crm/customers".into()], "viewer", day + 1000);
        u.record(&["sales/orders".into()], "analyst", day - 40 * DAY_MS);
        assert_eq!(u.recent("sales/orders", day), 2);
        let s = u.summary("sales/orders", day);
        assert_eq!((s.total, s.last_30_days), (3, 2));
        assert_eq!(s.roles, [("analyst".to_string(), 2), ("viewer".to_string(), 1)]);
        assert_eq!(s.per_day.last().unwrap().1, 2);
        assert_eq!(s.per_day.len(), 14);
    }
}
