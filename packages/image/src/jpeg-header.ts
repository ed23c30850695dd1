/**
 * Fast path for the most common input: width, height and EXIF orientation of a baseline or
 * progressive JPEG, read from its markers in microseconds (instead of a libvips header read
 * through the thread pool). Anything unusual returns undefined and the caller asks libvips.
 */
export interface JpegHeader {
  width: number;
  height: number;
  orientation: number;
}

const SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

function exifOrientation(data: Uint8Array, start: number, end: number): number | undefined {
  // "Exif\0\0" then a TIFF header
  if (
    end - start < 14 ||
    String.fromCharCode(...data.subarray(start, start + 4)) !== 'Exif' ||
    data[start + 4] !== 0 ||
    data[start + 5] !== 0
  ) {
    return undefined;
  }
  const tiff = start + 6;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const little = data[tiff] === 0x49 && data[tiff + 1] === 0x49;
  const big = data[tiff] === 0x4d && data[tiff + 1] === 0x4d;
  if (!little && !big) return undefined;
  if (view.getUint16(tiff + 2, little) !== 42) return undefined;
  const ifd = tiff + view.getUint32(tiff + 4, little);
  if (ifd + 2 > end) return undefined;
  const count = view.getUint16(ifd, little);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > end) return undefined;
    if (view.getUint16(entry, little) === 0x0112) {
      const type = view.getUint16(entry + 2, little);
      if (type !== 3) return undefined;
      const value = view.getUint16(entry + 8, little);
      return value >= 1 && value <= 8 ? value : undefined;
    }
  }
  return 1;
}

export function parseJpegHeader(data: Uint8Array): JpegHeader | undefined {
  if (data.length < 4 || data[0] !== 0xff || data[1] !== 0xd8) return undefined;
  let orientation = 1;
  let sawExif = false;
  let offset = 2;
  while (offset + 4 <= data.length) {
    if (data[offset] !== 0xff) return undefined;
    let marker = data[offset + 1]!;
    while (marker === 0xff && offset + 2 < data.length) marker = data[++offset + 1]!; // fill bytes
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      offset += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return undefined; // no frame header before the scan
    const length = (data[offset + 2]! << 8) | data[offset + 3]!;
    const start = offset + 4;
    const end = offset + 2 + length;
    if (length < 2 || end > data.length) return undefined;
    if (marker === 0xe1 && !sawExif) {
      const found = exifOrientation(data, start, end);
      if (found !== undefined) {
        orientation = found;
        sawExif = true;
      }
    } else if (SOF.has(marker)) {
      if (length < 8) return undefined;
      const height = (data[start + 1]! << 8) | data[start + 2]!;
      const width = (data[start + 3]! << 8) | data[start + 4]!;
      if (width === 0 || height === 0) return undefined; // DNL-defined height: let libvips decide
      return { width, height, orientation };
    }
    offset = end;
  }
  return undefined;
}
