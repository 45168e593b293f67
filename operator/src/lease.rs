//! Leader election with a `coordination.k8s.io/v1` Lease, as client-go's leaderelection does it:
//! of several operator replicas only the one holding the Lease reconciles; it renews the Lease
//! every retry period, and when it stops (killed, cut off) a standby takes the Lease over once
//! it has not been renewed for its duration.

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::api::{ObjectMeta, PostParams};
use kube::{Api, Client};
use std::future::Future;
use std::time::Duration;

/// How an election is held.
#[derive(Clone, Debug)]
pub struct Election {
    /// The Lease's namespace.
    pub namespace: String,
    /// The Lease's name.
    pub name: String,
    /// Who this replica is (unique among the candidates).
    pub identity: String,
    /// How long a Lease not renewed still holds (whole seconds, as the Lease stores it): a
    /// standby waits this long after the leader's last renewal.
    pub lease_duration: Duration,
    /// How long the leader goes on trying to renew before it gives up leading.
    pub renew_deadline: Duration,
    /// How often candidates try to acquire, and the leader renews.
    pub retry_period: Duration,
}

impl Election {
    /// The operator's election: Lease `sidecar-console-operator` in `namespace`, client-go's
    /// default timings (15 s, 10 s, 2 s).
    pub fn new(namespace: &str) -> Self {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "operator".into());
        Election {
            namespace: namespace.to_owned(),
            name: "sidecar-console-operator".into(),
            identity: format!("{host}_{}", uuid_like()),
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
        }
    }
}

/// A random suffix (the process id and the clock: unique enough among a few replicas).
fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{:x}{:x}", std::process::id(), nanos & 0xffff_ffff)
}

fn now() -> MicroTime {
    MicroTime(jiff::Timestamp::now())
}

/// What one attempt found.
#[derive(Debug, PartialEq, Eq)]
enum Attempt {
    /// We hold the Lease (acquired or renewed).
    Held,
    /// Someone else holds it, and it has not expired.
    Taken(String),
}

/// One acquire-or-renew of the Lease (optimistic: a 409 means someone else was faster).
async fn try_acquire(api: &Api<Lease>, e: &Election) -> Result<Attempt, kube::Error> {
    let duration = i32::try_from(e.lease_duration.as_secs()).unwrap_or(i32::MAX).max(1);
    let mine = |transitions: i32, acquired: Option<MicroTime>| LeaseSpec {
        holder_identity: Some(e.identity.clone()),
        lease_duration_seconds: Some(duration),
        acquire_time: acquired.or_else(|| Some(now())),
        renew_time: Some(now()),
        lease_transitions: Some(transitions),
        ..LeaseSpec::default()
    };
    let current = match api.get_opt(&e.name).await? {
        None => {
            let lease = Lease {
                metadata: ObjectMeta { name: Some(e.name.clone()), ..ObjectMeta::default() },
                spec: Some(mine(0, None)),
            };
            return match api.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(Attempt::Held),
                Err(kube::Error::Api(s)) if s.code == 409 => Ok(Attempt::Taken(String::new())),
                Err(err) => Err(err),
            };
        }
        Some(l) => l,
    };
    let spec = current.spec.clone().unwrap_or_default();
    let holder = spec.holder_identity.clone().unwrap_or_default();
    let renewed = spec.renew_time.as_ref().map(|t| t.0);
    let held_for = Duration::from_secs(u64::try_from(spec.lease_duration_seconds.unwrap_or(0)).unwrap_or(0));
    let expired = match renewed {
        Some(at) => jiff::Timestamp::now().duration_since(at).unsigned_abs() > held_for,
        None => true,
    };
    if !holder.is_empty() && holder != e.identity && !expired {
        return Ok(Attempt::Taken(holder));
    }
    let transitions = spec.lease_transitions.unwrap_or(0) + i32::from(holder != e.identity);
    let acquired = if holder == e.identity { spec.acquire_time } else { None };
    let mut next = current;
    next.spec = Some(mine(transitions, acquired));
    match api.replace(&e.name, &PostParams::default(), &next).await {
        Ok(_) => Ok(Attempt::Held),
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(Attempt::Taken(holder)),
        Err(err) => Err(err),
    }
}

/// Runs `lead()` while this replica holds the Lease: waits as a standby until it can take the
/// Lease, leads while it renews it, and stands by again when it cannot renew for the renew
/// deadline (the leading future is dropped: a replica that lost the Lease reconciles nothing).
pub async fn run_elected<F, Fut>(client: Client, e: Election, lead: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()>,
{
    let api: Api<Lease> = Api::namespaced(client, &e.namespace);
    loop {
        // Standby: until the Lease is ours.
        loop {
            match try_acquire(&api, &e).await {
                Ok(Attempt::Held) => break,
                Ok(Attempt::Taken(holder)) => tracing::debug!(holder, "standing by: another replica leads"),
                Err(err) => tracing::warn!(error = %err, "cannot read the leader Lease; standing by"),
            }
            tokio::time::sleep(e.retry_period).await;
        }
        tracing::info!(identity = %e.identity, lease = %e.name, "leading: this replica reconciles");
        let renewing = async {
            let mut last = tokio::time::Instant::now();
            loop {
                tokio::time::sleep(e.retry_period).await;
                match try_acquire(&api, &e).await {
                    Ok(Attempt::Held) => last = tokio::time::Instant::now(),
                    Ok(Attempt::Taken(holder)) => {
                        tracing::warn!(holder, "the Lease was taken over; no longer leading");
                        return;
                    }
                    Err(err) => tracing::warn!(error = %err, "cannot renew the Lease"),
                }
                if last.elapsed() > e.renew_deadline {
                    tracing::warn!("the Lease could not be renewed in time; no longer leading");
                    return;
                }
            }
        };
        tokio::select! {
            () = lead() => return,
            () = renewing => {}
        }
    }
}
