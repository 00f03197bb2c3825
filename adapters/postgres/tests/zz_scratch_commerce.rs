#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
mod common;
use std::time::Instant;
use common::with_database;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scratch() {
    with_database(|db| async move {
        let store = db.fresh_store().await;
        let mut conn = store.pool().acquire().await.unwrap();
        let mut k = 0;
        for n in [25usize, 50, 100, 150, 200, 250, 300, 400, 500, 1000] {
            let mut times = Vec::new();
            for _ in 0..6 {
                k += 1;
                let ids: Vec<String> = (0..n).map(|i| format!("r{k}-a{i}")).collect();
                let nn: Vec<i64> = (0..n as i64).collect();
                let t: Vec<&str> = vec!["some text value"; n];
                let started = Instant::now();
                sqlx::query("INSERT INTO commerce_audit (id, at_ms, shop_id, live_id, comment_id, \
     order_id, buyer_id, action, classifier, intent, confidence, items, detail)
     SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[],
                          $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
                          $11::real[], $12::text[], $13::text[])")
                  .bind(&ids).bind(&nn).bind(&t).bind(&t).bind(&t).bind(&t).bind(&t).bind(&t).bind(&t).bind(&t)
                  .bind(vec![0.5f32; n]).bind(&t).bind(&t)
                  .execute(&mut *conn).await.unwrap();
                times.push(format!("{:.1}", started.elapsed().as_secs_f64()*1e3));
            }
            // approx message size: 11 text arrays * n * (len+4) + ...
            println!("n={n} approx_bytes={} ms {:?}", n * (11*19 + 12 + 8), times);
        }
    }).await;
}
