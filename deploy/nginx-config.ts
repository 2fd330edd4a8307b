/**
 * The nginx configuration of a route table (docs/deployments.md#the-nginx-router). `split_clients` splits traffic
 * by a hash of a per-request id — or, when sticky, of the client's bucket cookie — so weights behave as in the
 * builtin router: a client stays on its track until the weights move past its bucket. The access log records the
 * track, upstream and timing of every request; the router agent turns it into per-version metrics.
 */
import { stickyCookie, type Backend, type RouteTable } from './route-table';

/** Ports inside the nginx container. */
export interface NginxPorts {
  traffic: number;
  preview: number;
  /** 127.0.0.1 only: answers the configuration generation, so the agent can see a reload take effect. */
  control: number;
}

/** Where nginx writes what the agent reads. */
export const nginxAccessLog = '/var/log/nginx/conveyor-access.log';

function upstream(name: string, backends: readonly Backend[]): string {
  // max_fails=0: a backend is never marked down for a failed request — the workflow decides what is in rotation;
  // proxy_next_upstream still retries a refused connection on the next backend.
  const servers = backends.map((backend) => `    server ${backend.address} max_fails=0;`).join('\n');
  return `  upstream ${name} {\n${servers}\n    keepalive 32;\n  }`;
}

const proxySettings = `      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_next_upstream error timeout;
      proxy_connect_timeout 5s;
      proxy_read_timeout 60s;`;

/** A location that proxies to `upstreamName`, or answers 503 when the track has no backends. */
function location(upstreamName: string | undefined, extra = ''): string {
  if (!upstreamName) return `    location / {\n      return 503 "conveyor router: no backends\\n";\n    }`;
  return `    location / {\n      proxy_pass http://${upstreamName};\n${proxySettings}${extra}\n    }`;
}

/**
 * Renders the complete nginx.conf for `table`. `generation` is served on the control port, `drainSeconds` bounds how
 * long old worker processes finish in-flight requests after a reload.
 */
export function renderNginxConfig(
  table: RouteTable,
  generation: number,
  ports: NginxPorts,
  drainSeconds: number,
): string {
  const hasStable = table.stable.backends.length > 0;
  const hasCanary = table.canary.backends.length > 0;
  const hasPreview = table.preview.length > 0;
  const canaryShare = hasCanary ? table.canary.weight : 0;
  const split =
    canaryShare >= 100
      ? '    * canary;'
      : canaryShare > 0
        ? `    ${canaryShare}% canary;\n    * stable;`
        : '    * stable;';
  // Without backends on one track, every request goes to the other (as the builtin router's pickTrack does).
  const forcedCanary = hasCanary ? 'canary' : 'stable';
  const forcedStable = hasStable ? 'stable' : 'canary';
  const upstreams = [
    hasStable ? upstream('conveyor_stable', table.stable.backends) : '',
    hasCanary ? upstream('conveyor_canary', table.canary.backends) : '',
    hasPreview ? upstream('conveyor_preview', table.preview) : '',
  ]
    .filter(Boolean)
    .join('\n');
  const trafficUpstream = hasStable || hasCanary ? 'conveyor_$conveyor_track' : undefined;
  const stickyKey = table.sticky
    ? `  map $cookie_${stickyCookie} $conveyor_key {\n    "" $request_id;\n    default $cookie_${stickyCookie};\n  }\n` +
      `  map $cookie_${stickyCookie} $conveyor_set_cookie {\n    "" "${stickyCookie}=$request_id; Path=/; HttpOnly; SameSite=Lax";\n    default "";\n  }`
    : '  map $request_id $conveyor_key {\n    default $request_id;\n  }';
  const setCookie = table.sticky ? '\n      add_header Set-Cookie $conveyor_set_cookie;' : '';
  return `# Rendered by Conveyor's router agent (docs/deployments.md#the-nginx-router); generation ${generation}.
worker_processes 1;
pid /run/nginx.pid;
error_log stderr warn;
worker_shutdown_timeout ${Math.max(1, drainSeconds)}s;
events {
  worker_connections 4096;
}
http {
  access_log off;
  server_tokens off;
  client_body_temp_path /tmp/nginx-body;
  proxy_temp_path /tmp/nginx-proxy;
  log_format conveyor escape=json '{"t":$msec,"track":"$conveyor_track","upstream":"$upstream_addr","status":$status,"rt":$request_time}';
  log_format conveyor_preview escape=json '{"t":$msec,"track":"preview","upstream":"$upstream_addr","status":$status,"rt":$request_time}';
${stickyKey}
  split_clients "$conveyor_key" $conveyor_split {
${split}
  }
  map $http_x_conveyor_version $conveyor_track {
    canary ${forcedCanary};
    stable ${forcedStable};
    default ${hasStable && hasCanary ? '$conveyor_split' : hasCanary ? 'canary' : 'stable'};
  }
${upstreams}
  server {
    listen ${ports.traffic};
    access_log ${nginxAccessLog} conveyor;
${location(trafficUpstream, setCookie)}
  }
  server {
    listen ${ports.preview};
    access_log ${nginxAccessLog} conveyor_preview;
${location(hasPreview ? 'conveyor_preview' : undefined)}
  }
  server {
    listen 127.0.0.1:${ports.control};
    location = /generation {
      return 200 "${generation}";
    }
  }
}
`;
}
