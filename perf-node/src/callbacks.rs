//! Alert and emergency callbacks: perf-core calls its subscribers from
//! whichever thread evaluates (the background evaluator, or the caller of
//! `evaluate`); each JavaScript callback is reached through a weak (unref'd)
//! thread-safe function, so it runs on the JavaScript thread and never keeps
//! the process alive. The facade wraps every callback so that a throwing
//! one is caught and reported, never crashing the process.

use std::sync::atomic::AtomicU32;

use napi::bindgen_prelude::{Function, Uint8Array};
use napi::threadsafe_function::ThreadsafeFunctionCallMode;
use perf_core::{Emergency, Monitor};

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

/// A one-byte typed array over the memory the mode itself is kept in: 1
/// while it is on, 0 while it is off. A call through Node-API costs far
/// more than reading a typed array, and `isActive()` is meant to be called
/// on every request.
pub fn emergency_flag(emergency: &Emergency) -> Uint8Array {
    // The mode's word (in multi-process mode, the group's, in shared
    // memory): 0 or 1, so its low byte alone says whether the mode is on.
    let low_byte = if cfg!(target_endian = "little") { 0 } else { 3 };
    let keep = emergency.clone();
    let word: *const AtomicU32 = keep.mode_word();
    // SAFETY: the word lives as long as `keep`, which the finalizer holds
    // until the JavaScript array is collected; perf-core writes it only
    // with atomic stores of 0 or 1, and JavaScript only reads it.
    unsafe {
        let data = word.cast::<u8>().cast_mut().add(low_byte);
        Uint8Array::with_external_data(data, 1, move |_, _| drop(keep))
    }
}
