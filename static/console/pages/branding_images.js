// The images of the branding editor (admins): one of the theme's 37 images at a time (the
// list is the API's), the one in force beside a preview of the chosen file (a blob: URL,
// shown before anything is sent), upload, and reset to the default. The server checks the
// bytes (PNG or JPEG only); its message shows beside the file field.

import { api } from "../api.js";
import { h, danger } from "../ui.js";

const path = (uri) => { try { return new URL(uri, location.href).pathname; } catch (e) { return ""; } };

export async function imageEditor(theme, ctx) {
  const list = await api("GET", `/v3/branding-images/${theme}`);
  const images = Object.fromEntries(list.data.map((i) => [i.reference, i]));
  const pick = h("select", { id: "image-reference" }, list.data.map((i) => h("option", { value: i.reference }, i.reference)));
  // The logo the console's header shows.
  pick.value = images.brand_logo_landscape ? "brand_logo_landscape" : list.data[0].reference;
  const current = h("img", { id: "image-current", class: "branding-image", alt: "" });
  const preview = h("img", { id: "image-preview", class: "branding-image", alt: "Preview of the chosen file", hidden: true });
  const file = h("input", { type: "file", id: "image-file", name: "image", accept: "image/png,image/jpeg", "aria-describedby": "image-file-error" });
  const err = h("p", { class: "field-error", id: "image-file-error", role: "alert" });
  const status = h("p", { class: "hint", role: "status" });
  const name = h("strong", {});
  const chosen = h("figure", { hidden: true }, preview, h("figcaption", {}, "Chosen file (not sent yet)"));
  let objectUrl = null;

  function clearChoice() {
    if (objectUrl) URL.revokeObjectURL(objectUrl);
    objectUrl = null;
    file.value = "";
    preview.hidden = true;
    chosen.hidden = true;
    preview.removeAttribute("src");
    err.textContent = "";
    file.removeAttribute("aria-invalid");
  }
  const reset = danger("Reset to default", "Put back the default image?", async () => {
    await api("POST", `/v3/branding-images/${theme}/${pick.value}/clear`);
    images[pick.value] = await api("GET", `/v3/branding-images/${theme}/${pick.value}`);
    status.textContent = `${pick.value} is the default again.`;
    show();
    await ctx.applyBranding();
  }, "");
  reset.querySelector("button").id = "image-reset";
  function show() {
    const img = images[pick.value];
    name.textContent = pick.value;
    current.src = path(img.static_uri);
    current.alt = `${pick.value} in force`;
    // Only an uploaded image has something to reset.
    reset.hidden = !img.updated_at;
    reset.querySelector("button").setAttribute("aria-label", `Reset ${pick.value} to default`);
  }
  pick.addEventListener("change", () => { clearChoice(); status.textContent = ""; show(); });
  file.addEventListener("change", () => {
    err.textContent = "";
    if (objectUrl) URL.revokeObjectURL(objectUrl);
    const f = file.files[0];
    if (!f) { preview.hidden = true; chosen.hidden = true; return; }
    objectUrl = URL.createObjectURL(f);
    preview.src = objectUrl;
    preview.hidden = false;
    chosen.hidden = false;
  });
  const upload = h("button", { type: "button", class: "primary", id: "image-upload", onclick: async () => {
    err.textContent = "";
    status.textContent = "";
    const f = file.files[0];
    if (!f) { err.textContent = "Choose a PNG or JPEG file first."; file.focus(); return; }
    const body = new FormData();
    body.append("image", f);
    upload.disabled = true;
    upload.setAttribute("aria-busy", "true");
    try {
      images[pick.value] = await api("POST", `/v3/branding-images/${theme}/${pick.value}/upload-multipart`, body);
      clearChoice();
      status.textContent = `${pick.value} uploaded.`;
      show();
      await ctx.applyBranding();
    } catch (e) {
      const field = (e.fields || []).find((x) => x.name === "image");
      err.textContent = field ? field.message : e.message;
      file.setAttribute("aria-invalid", "true");
      file.focus();
    } finally {
      upload.disabled = false;
      upload.removeAttribute("aria-busy");
    }
  } }, "Upload");
  show();
  return h("div", { id: "image-editor" },
    h("h2", {}, `${theme === "dark" ? "Dark" : "Light"} theme images`),
    h("div", { class: "field" }, h("label", { for: "image-reference" }, "Image to change"), pick),
    h("div", { class: "image-pair" },
      h("figure", {}, current, h("figcaption", {}, "In force: ", name)), chosen),
    h("div", { class: "field" }, h("label", { for: "image-file" }, "New image (PNG or JPEG)"), file, err),
    h("div", { class: "actions" }, upload, reset), status);
}
