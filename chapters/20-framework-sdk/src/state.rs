//! What survives a restart: the framework id and every instance's task,
//! agent, last state and failure count, in one JSON file.
//!
//! Written after every change, atomically (temporary file + rename), so a
//! crash leaves either the old or the new state, never half of one. On
//! start the scheduler re-subscribes with the saved framework id and asks
//! the master about every saved task (reconciliation) before it launches
//! anything for those instances.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One instance as saved.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SavedInstance {
    /// Its current (or last) task id; empty if never launched.
    pub task_id: String,
    /// The agent it was launched on.
    pub agent_id: String,
    /// The last state heard, e.g. `TASK_RUNNING`.
    pub state: String,
    /// Failures so far.
    pub failures: u32,
}

/// The saved state.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SavedState {
    /// The framework id, once known.
    pub framework_id: Option<String>,
    /// By instance name (`web-0`).
    pub instances: BTreeMap<String, SavedInstance>,
}

/// The state file (or none: nothing is saved).
#[derive(Debug, Clone)]
pub struct StateFile {
    path: Option<PathBuf>,
}

impl StateFile {
    /// A state file at `path`.
    pub fn new(path: Option<&Path>) -> StateFile {
        StateFile {
            path: path.map(Path::to_path_buf),
        }
    }

    /// The saved state; empty if there is no file yet.
    pub fn load(&self) -> Result<SavedState, String> {
        let Some(path) = &self.path else {
            return Ok(SavedState::default());
        };
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(SavedState::default()),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// Saves `state` atomically; a failure is logged (the run goes on, only
    /// a restart would lose track).
    pub fn save(&self, state: &SavedState) {
        let Some(path) = &self.path else { return };
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let text = serde_json::to_string_pretty(state).unwrap_or_default();
        if let Err(e) = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, path)) {
            log::error!("cannot save state to {}: {e}", path.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_through_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::new(Some(&dir.path().join("state.json")));
        assert_eq!(file.load().unwrap(), SavedState::default());
        let mut state = SavedState {
            framework_id: Some("f1".into()),
            ..Default::default()
        };
        state.instances.insert(
            "web-0".into(),
            SavedInstance {
                task_id: "web-0-1".into(),
                state: "TASK_RUNNING".into(),
                ..Default::default()
            },
        );
        file.save(&state);
        assert_eq!(file.load().unwrap(), state);
    }
}
