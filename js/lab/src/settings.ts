// The lab's settings (schema/plugin.json) kept in step with the server extension: public values are sent
// on load and on every change; a secret typed there is sent once, then removed from the lab's settings.
import type { ISettingRegistry } from "@jupyterlab/settingregistry";
import { api, type PublicSettings } from "./api";

export const SECRET_KEYS = ["argoToken", "artifactSecretKey"] as const;
const PUBLIC_KEYS = [
  "argoHost",
  "namespace",
  "artifactEndpoint",
  "artifactBucket",
  "artifactSecure",
  "artifactAccessKey",
  "defaultImage",
  "opModules",
] as const;

/** Send `settings` to the server now and whenever they change; `applied` gets what the server holds. */
export function syncSettings(
  settings: ISettingRegistry.ISettings,
  applied: (s: PublicSettings) => void,
): Promise<void> {
  const sync = async () => {
    const c = settings.composite as Record<string, unknown>;
    const values: Record<string, unknown> = {};
    for (const k of PUBLIC_KEYS) if (c[k] !== undefined) values[k] = c[k];
    const typed = SECRET_KEYS.filter((k) => typeof c[k] === "string" && c[k] !== "");
    for (const k of typed) values[k] = c[k];
    try {
      applied(await api.putSettings(values));
      for (const k of typed) await settings.remove(k); // kept by the server from now on
    } catch (e) {
      console.error(`dflow-lab: settings not applied: ${e instanceof Error ? e.message : e}`);
    }
  };
  settings.changed.connect(() => void sync());
  return sync();
}
