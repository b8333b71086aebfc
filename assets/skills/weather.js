// Weather from wttr.in (no API key): current conditions, forecast, rain or detail for a place.
// Args: "<location>" or "<mode>|<location>"; modes: forecast, rain, detail (else current);
// an empty location or "here" means the server's own IP location.
// WEATHER_SKILL_VERSION=3

// Tests may set WTTR_BASE_URL (a read-only host constant only the embedding code can provide);
// every request still goes through the sandbox's URL policy.
const WEATHER_BASE = typeof WTTR_BASE_URL === 'string' ? WTTR_BASE_URL : 'https://wttr.in';

const HERE = ['', 'here', 'Here', 'HERE', 'local', 'Local', 'LOCAL', 'current', 'Current', 'CURRENT', 'ở đây', 'o day', 'tai day'];

const FORMATS = {
  forecast: '?format=v2',
  rain: '?format=%l:+%c+%p',
  detail: '?0',
  current: '?format=%l:+%c+%t+(feels+like+%f),+%w+wind,+%h+humidity',
};

function normalizeMode(raw) {
  const m = raw.trim();
  if (m === 'forecast' || m === 'Forecast' || m === 'FORECAST') return 'forecast';
  if (m === 'rain' || m === 'Rain' || m === 'RAIN') return 'rain';
  if (m === 'detail' || m === 'Detail' || m === 'DETAIL') return 'detail';
  return 'current';
}

function normalizeLocation(raw) {
  const loc = raw.trim();
  return HERE.includes(loc) ? '' : loc;
}

function parseArgs(args) {
  const text = typeof args === 'string' ? args : '';
  if (!text.includes('|')) return { mode: 'current', location: normalizeLocation(text) };
  const parts = text.split('|');
  return { mode: normalizeMode(parts[0]), location: normalizeLocation(parts[1]) };
}

function weatherUrl(mode, location) {
  const encoded = encodeURIComponent(location).replace(/%20/g, '+');
  return WEATHER_BASE + (encoded ? '/' + encoded : '') + FORMATS[mode];
}

function stripAnsi(text) {
  return text
    .replace(/\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)/g, '')
    .replace(/\u001b\[[0-9;?]*[ -\/]*[@-~]/g, '')
    .replace(/\u001b[@-_]/g, '')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '');
}

async function main(args) {
  const { mode, location } = parseArgs(args);
  log_info('weather skill request mode=' + mode + ' location=' + (location || '(auto-ip)') + ' at=' + time_now());
  const res = await http_get(weatherUrl(mode, location));
  if (res.status >= 400) {
    throw new Error('weather service answered HTTP ' + res.status + ': ' + stripAnsi(res.body).trim().slice(0, 200));
  }
  const text = stripAnsi(res.body).trim();
  if (text === '') {
    return location ? 'No weather data returned for ' + location : 'No weather data returned for current IP location';
  }
  return text;
}
