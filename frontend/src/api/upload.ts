/** Uploading a file with progress and cancel: fetch cannot report upload progress, XMLHttpRequest can. */

import { CSRF_COOKIE, CSRF_HEADER, readCookie, signedOut, type Schemas } from "./client";
import { ApiError, OfflineError } from "./problem";

export interface UploadHandle {
  done: Promise<Schemas["DatasetPublic"]>;
  cancel: () => void;
}

export class UploadCancelled extends Error {
  constructor() {
    super("Upload cancelled.");
    this.name = "UploadCancelled";
  }
}

export function uploadDataset(file: File, name: string, onProgress: (fraction: number) => void): UploadHandle {
  const request = new XMLHttpRequest();
  const done = new Promise<Schemas["DatasetPublic"]>((resolve, reject) => {
    request.open("POST", "/api/v1/datasets");
    request.responseType = "json";
    const token = readCookie(CSRF_COOKIE);
    if (token) request.setRequestHeader(CSRF_HEADER, token);
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    request.onload = () => {
      if (request.status >= 200 && request.status < 300) resolve(request.response);
      else {
        if (request.status === 401) signedOut();
        reject(new ApiError(request.status, request.response));
      }
    };
    request.onerror = () => reject(new OfflineError());
    request.onabort = () => reject(new UploadCancelled());
    const form = new FormData();
    form.append("name", name);
    form.append("file", file);
    request.send(form);
  });
  return { done, cancel: () => request.abort() };
}
