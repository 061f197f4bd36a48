// opsctl fleet --endpoint TEMPLATE: how to reach an instance Prometheus names. The
// template is a URL with {label} placeholders filled in with the instance's target
// labels: 'https://{instance}' where Prometheus scrapes the endpoint's own port, or
// 'http://127.0.0.1:8001/api/v1/namespaces/{namespace}/pods/{pod}:9500/proxy' through
// kubectl proxy. The values come from Prometheus, and the token goes where they point:
// only the characters of host names, ports and pod names may go in, so that no answer
// can add a path, a query, a user or another host than the template's.
import { CliError } from '../errors.js';
import { parseUrl } from '../target.js';

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
// Host names, IPv4 and [IPv6] addresses, ports, pod names; never "." or "..".
const SAFE_VALUE = /^(?!\.+$)[A-Za-z0-9._~:[\]-]+$/;
const TEMPLATE_HINT = "give --endpoint as a URL with {label} placeholders, e.g. 'https://{instance}'";

/** Throws USAGE unless `template` is an http(s) URL with at least one placeholder. */
export function checkEndpointTemplate(template: string): void {
  if (template.search(PLACEHOLDER) < 0)
    throw new CliError('USAGE', `--endpoint ${template} names no label: every instance would get the same URL`, { hint: TEMPLATE_HINT });
  try {
    parseUrl(template.replace(PLACEHOLDER, 'x'));
  } catch (error) {
    throw new CliError('USAGE', `--endpoint ${template} is not an http or https URL template`, { hint: TEMPLATE_HINT, cause: error });
  }
}

/** The endpoint URL of an instance with these target labels. */
export function endpointUrl(template: string, labels: Readonly<Record<string, string>>): URL {
  const filled = template.replace(PLACEHOLDER, (_, name: string) => {
    const value = labels[name];
    if (value === undefined) {
      throw new CliError('USAGE', `the instance has no label "${name}" for --endpoint ${template}; its labels: ${Object.keys(labels).sort().join(', ')}`, {
        hint: TEMPLATE_HINT,
      });
    }
    if (!SAFE_VALUE.test(value)) {
      throw new CliError('BAD_RESPONSE', `Prometheus gave ${name}="${value}", which cannot go into a URL`, {
        hint: 'use a label that holds a host name, an address or a pod name',
      });
    }
    return value;
  });
  return parseUrl(filled);
}
