// The branding editor (admins): every color per theme with a live preview, reset to
// default; the images are in branding_images.js.

import { api } from "../api.js";
import { h, page, errorBox } from "../ui.js";
import { imageEditor } from "./branding_images.js";

export async function render(ctx) {
  const out = h("div");
  async function show(theme) {
    let colors;
    try { colors = await api("GET", `/v3/branding-colors/${theme}`); } catch (e) { out.replaceChildren(errorBox(e)); return; }
    const preview = h("div", { class: "preview", id: "branding-preview" },
      h("p", { class: "preview-primary" }, "Primary"), h("p", { class: "preview-secondary" }, "Secondary"),
      h("p", { class: "preview-error" }, "Error"), h("p", { class: "preview-success" }, "Success"));
    const rows = colors.data.map((c) => {
      const id = `color-${theme}-${c.reference}`;
      const input = h("input", { id, type: "text", name: c.reference, value: c.color, autocomplete: "off", "aria-describedby": `${id}-error` });
      const picker = h("input", { type: "color", "aria-label": `Pick ${c.reference}`, value: /^#[0-9a-fA-F]{6}$/.test(c.color) ? c.color : "#000000" });
      const err = h("p", { class: "field-error", id: `${id}-error`, role: "alert" });
      const live = (v) => preview.style.setProperty(`--${c.reference}`, v);
      live(c.color);
      input.addEventListener("input", () => { live(input.value); if (/^#[0-9a-fA-F]{6}$/.test(input.value)) picker.value = input.value; });
      picker.addEventListener("input", () => { input.value = picker.value; live(picker.value); });
      const save = h("button", { type: "button", id: `save-${theme}-${c.reference}`, onclick: async () => {
        err.textContent = "";
        try {
          await api("PUT", `/v3/branding-colors/${theme}/${c.reference}`, { color: input.value.trim() });
          err.textContent = "";
          await ctx.applyBranding();
        } catch (e) { err.textContent = e.message; }
      } }, `Save ${c.reference}`);
      const reset = h("button", { type: "button", onclick: async () => {
        try {
          const d = await api("DELETE", `/v3/branding-colors/${theme}/${c.reference}`);
          input.value = d.color; live(d.color); await ctx.applyBranding();
        } catch (e) { err.textContent = e.message; }
      } }, `Reset ${c.reference}`);
      return h("div", { class: "field color-row" }, h("label", { for: id }, c.reference), input, picker, save, reset, err);
    });
    let images;
    try { images = await imageEditor(theme, ctx); } catch (e) { images = errorBox(e); }
    out.replaceChildren(h("h2", {}, `${theme === "dark" ? "Dark" : "Light"} theme colors`), preview, ...rows, images);
  }
  const pick = h("select", { id: "branding-theme" }, h("option", { value: "light" }, "Light"), h("option", { value: "dark" }, "Dark"));
  pick.value = document.documentElement.dataset.theme || "light";
  pick.addEventListener("change", () => show(pick.value));
  await show(pick.value);
  return page("Branding", h("div", { class: "field" }, h("label", { for: "branding-theme" }, "Theme to edit"), pick), out);
}
