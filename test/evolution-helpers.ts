// Shared by the evolution tests: sandbox settings as the defaults load them.
import { settingsFromEnv, type SkillSettings } from '../src/config/index.js';

export function loadSkillSettingsForTest(): SkillSettings {
  return settingsFromEnv({}, '/tmp').skills;
}
