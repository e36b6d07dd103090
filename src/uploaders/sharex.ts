// A ShareX custom uploader (.sxcu): the JSON ShareX imports with a double click. Its syntax is
// ShareX 14's ({json:path} picks a field of the answer), which later versions read too.
import { uploadUrl, type UploaderSettings } from './settings.js';

export interface SharexUploader {
  Version: string;
  Name: string;
  DestinationType: string;
  RequestMethod: 'POST';
  RequestURL: string;
  Body: 'MultipartFormData';
  FileFormName: string;
  Headers?: Record<string, string>;
  URL: string;
  ThumbnailURL: string;
  DeletionURL: string;
  ErrorMessage: string;
}

export function sharexUploader(settings: UploaderSettings): SharexUploader {
  return {
    Version: '14.0.1',
    Name: `imghost (${new URL(settings.base).host})`,
    DestinationType: 'ImageUploader, FileUploader',
    RequestMethod: 'POST',
    RequestURL: uploadUrl(settings),
    Body: 'MultipartFormData',
    FileFormName: 'file',
    ...(settings.token === null ? {} : { Headers: { Authorization: `Bearer ${settings.token}` } }),
    URL: '{json:url}',
    ThumbnailURL: '{json:thumb_url}',
    DeletionURL: '{json:delete_url}',
    ErrorMessage: '{json:message}',
  };
}
