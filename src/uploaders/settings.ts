// What every uploader config is written with: where the server is, and the upload token to send.

/** The placeholder a config carries when the server wants a token its requester did not show. */
export const TOKEN_PLACEHOLDER = 'YOUR_UPLOAD_TOKEN';

export interface UploaderSettings {
  /** The site's link base (--public_url, or the origin the config was requested at), no trailing slash. */
  base: string;
  /** The upload token to send, TOKEN_PLACEHOLDER, or null when the server takes uploads without one. */
  token: string | null;
}

export const uploadUrl = (settings: UploaderSettings): string => `${settings.base}/api/images`;

/** A name for the downloaded file, from the server's host, safe on every file system (no `:`). */
export const hostFileName = (settings: UploaderSettings, extension: string): string =>
  `${new URL(settings.base).host.replace(/[^A-Za-z0-9.-]+/g, '_')}.${extension}`;
