import packageJson from '../../../package.json' with { type: 'json' };

export const POLLARD_VERSION: string = packageJson.version;
