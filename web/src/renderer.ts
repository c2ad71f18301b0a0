/**
 * Renderer choice. WebGL is the fast path on a real GPU, but a software rasterizer (SwiftShader,
 * llvmpipe: VMs, remote desktops, headless browsers) renders xterm.js several times slower than
 * the DOM renderer, so there the DOM renderer is kept. `?renderer=webgl` or `?renderer=dom`
 * overrides the choice.
 */
const SOFTWARE = /swiftshader|llvmpipe|softpipe|software|basic render driver|mesa offscreen/i;

function probeSoftwareGl(): boolean {
  try {
    const canvas = document.createElement('canvas');
    const gl = canvas.getContext('webgl2');
    if (gl === null) return false; // no WebGL2: the addon will fail and we fall back anyway
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = info === null ? '' : String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL));
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return SOFTWARE.test(renderer);
  } catch {
    return false;
  }
}

export function wantWebgl(): boolean {
  const forced = new URLSearchParams(window.location.search).get('renderer');
  if (forced === 'webgl') return true;
  if (forced === 'dom') return false;
  return !probeSoftwareGl();
}
