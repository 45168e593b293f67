//! Two operator replicas elect one leader with a Lease: never both lead, and when the leader
//! is killed the standby takes over within the lease duration.

use emulator::Emulator;
use operator::lease::{run_elected, Election};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Marks its replica as leading while its future lives.
struct Leading(Arc<Mutex<Vec<&'static str>>>, &'static str);

impl Drop for Leading {
    fn drop(&mut self) {
        self.0.lock().unwrap().retain(|n| *n != self.1);
    }
}

fn election(identity: &str) -> Election {
    Election {
        namespace: "default".into(),
        name: "sidecar-console-operator".into(),
        identity: identity.into(),
        lease_duration: Duration::from_secs(2),
        renew_deadline: Duration::from_millis(1500),
        retry_period: Duration::from_millis(100),
    }
}

#[tokio::test]
async fn one_replica_leads_and_the_standby_takes_over_when_it_is_killed() {
    let emulator = Emulator::new();
    let client = kube::Client::new(emulator.router(), "default");
    let leading = Arc::new(Mutex::new(Vec::<&'static str>::new()));
    let most = Arc::new(AtomicUsize::new(0));
    let spawn = |name: &'static str| {
        let (client, leading, most) = (client.clone(), leading.clone(), most.clone());
        tokio::spawn(async move {
            run_elected(client, election(name), || {
                let (leading, most) = (leading.clone(), most.clone());
                async move {
                    leading.lock().unwrap().push(name);
                    most.fetch_max(leading.lock().unwrap().len(), Ordering::SeqCst);
                    let _mark = Leading(leading.clone(), name);
                    std::future::pending::<()>().await;
                }
            })
            .await;
        })
    };
    let a = spawn("replica-a");
    let b = spawn("replica-b");
    let start = Instant::now();
    let first = loop {
        if let Some(n) = leading.lock().unwrap().first().copied() {
            break n;
        }
        assert!(start.elapsed() < Duration::from_secs(5), "nobody leads");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // For a while, exactly one leads.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(*leading.lock().unwrap(), vec![first]);
    let lease: serde_json::Value = emulator
        .store()
        .get(
            emulator.store().registry.find("coordination.k8s.io", "v1", "leases").expect("leases"),
            Some("default"),
            "sidecar-console-operator",
        )
        .expect("the Lease");
    assert_eq!(lease["spec"]["holderIdentity"], first);
    // Kill the leader: the standby takes over once the Lease has expired.
    let killed = Instant::now();
    if first == "replica-a" {
        a.abort()
    } else {
        b.abort()
    }
    let second = loop {
        let now: Vec<&str> = leading.lock().unwrap().clone();
        if let Some(n) = now.iter().find(|n| **n != first) {
            break *n;
        }
        assert!(killed.elapsed() < Duration::from_secs(5), "the standby never took over");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let handover = killed.elapsed();
    println!("{second} took over {handover:?} after {first} was killed (lease 2 s, retry 0.1 s)");
    assert!(handover <= Duration::from_millis(2000 + 400), "{handover:?}");
    assert_eq!(most.load(Ordering::SeqCst), 1, "two replicas never led at once");
}
