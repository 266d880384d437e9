//! Alert and emergency callbacks: perf-core calls its subscribers from
//! whichever thread evaluates (the background evaluator, or the caller of
//! `evaluate`); each JavaScript callback is reached through a weak (unref'd)
//! thread-safe function, so it runs on the JavaScript thread and never keeps
//! the process alive. The facade wraps every callback so that a throwing
//! one is caught and reported, never crashing the process.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use napi::bindgen_prelude::{Function, Uint8Array};
use napi::threadsafe_function::ThreadsafeFunctionCallMode;
use perf_core::{Emergency, EmergencyChange, Monitor};

use crate::convert::{AlertEventObject, EmergencyTransitionObject};

/// Subscribes `callback` to the monitor's notifications; returns the
/// subscription id.
pub fn subscribe_alerts(
    monitor: &Monitor,
    callback: Function<AlertEventObject, ()>,
) -> napi::Result<f64> {
    let tsfn = callback
        .build_threadsafe_function()
        .weak::<true>()
        .build()?;
    let id = monitor.subscribe(move |event| {
        // NonBlocking: the queue is unbounded, and a closing environment
        // (process exit) just drops the event.
        tsfn.call(
            AlertEventObject::from(event),
            ThreadsafeFunctionCallMode::NonBlocking,
        );
    });
    Ok(id.0 as f64)
}

/// Subscribes `callback` to the emergency mode's transitions; returns the
/// subscription id.
pub fn subscribe_emergency(
    emergency: &Emergency,
    callback: Function<EmergencyTransitionObject, ()>,
) -> napi::Result<f64> {
    let tsfn = callback
        .build_threadsafe_function()
        .weak::<true>()
        .build()?;
    let id = emergency.subscribe(move |transition| {
        tsfn.call(
            EmergencyTransitionObject::from(transition),
            ThreadsafeFunctionCallMode::NonBlocking,
        );
    });
    Ok(id.0 as f64)
}

/// A one-byte typed array over memory that an emergency listener keeps at
/// 1 while the mode is on and 0 while it is off (a listener runs for every
/// transition, in order, right after it is made). A call through Node-API
/// costs far more than reading a typed array, and `isActive()` is meant to
/// be called on every request.
pub fn emergency_flag(emergency: &Emergency) -> Uint8Array {
    let flag = Arc::new(AtomicU8::new(0));
    let writer = Arc::clone(&flag);
    emergency.subscribe(move |transition| {
        let on = transition.change != EmergencyChange::Deactivated;
        writer.store(u8::from(on), Ordering::Release);
    });
    // A transition made before the listener was added is not delivered to it.
    flag.store(u8::from(emergency.is_active()), Ordering::Release);
    let data = flag.as_ptr();
    // SAFETY: `data` points into `flag`, which the finalizer keeps alive
    // until the JavaScript array is collected (and the listener keeps its
    // own reference); the byte is only ever written with atomic stores.
    unsafe { Uint8Array::with_external_data(data, 1, move |_, _| drop(flag)) }
}
