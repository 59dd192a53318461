"""Branding scenarios: theme colors and images for the own account and a sub-tenant.
Colors: PUT/GET/DELETE /v3/[accounts/{id}/]branding-colors/{theme}/{reference}.
Images: POST .../branding-images/{theme}/{reference}/upload-multipart (form field "image",
filename "image.png", part type image/png), GET, POST .../clear."""
import os
import random

from mbed_cloud.foundation import (DarkThemeColor, DarkThemeImage, LightThemeColor, LightThemeImage,
                                   SubtenantDarkThemeColor, SubtenantDarkThemeImage, SubtenantLightThemeColor,
                                   SubtenantLightThemeImage)

from sdk_common import check, eq, is_datetime, make_png_file


def random_color():
    return "#%06x" % random.randrange(0x1000000)


def theme_colors(ctx):
    colors = {}
    for cls in (DarkThemeColor, LightThemeColor):
        color = colors[cls] = random_color()
        upd = cls(reference="primary", color=color).update()  # body {"color": ...}
        eq((upd.reference, upd.color), ("primary", color), cls.__name__ + " update response")
        got = cls(reference="primary").read()
        eq(got.color, color, cls.__name__ + " read back")
        check(is_datetime(got.updated_at), cls.__name__ + " updated_at not RFC3339 after an update")
        # read-modify-update sends {"color", "updated_at"}: unknown/read-only fields must be ignored
        got.color = color
        got.update()
        # the list (no query parameters, must answer has_more=false) has every reference
        listed = {c.reference: c.color for c in cls().list()}
        eq(listed.get("primary"), color, cls.__name__ + " list entry for primary")
        check("secondary" in listed, cls.__name__ + " list lacks the other references")
    # dark and light are independent
    eq(DarkThemeColor(reference="primary").read().color, colors[DarkThemeColor], "dark color after light update")
    for cls in (DarkThemeColor, LightThemeColor):
        cls(reference="primary").delete()  # DELETE -> 200, resets to the theme default
        check(cls(reference="primary").read().color != colors[cls], cls.__name__ + " delete did not reset")


def theme_images(ctx):
    png = make_png_file()
    try:
        for cls in (LightThemeImage, DarkThemeImage):
            ref = "brand_logo_square"
            if cls is DarkThemeImage:  # the SDK also accepts an open file object
                with open(png, "rb") as fh:
                    up = cls(reference=ref).update(image=fh)
            else:
                up = cls(reference=ref).update(image=png)
            check(up.static_uri, cls.__name__ + " upload response lacks static_uri")
            got = cls(reference=ref).read()
            eq(got.static_uri, up.static_uri, cls.__name__ + " static_uri read back")
            check(is_datetime(got.updated_at), cls.__name__ + " updated_at not RFC3339 after upload")
            listed = {i.reference: i.static_uri for i in cls().list()}
            eq(listed.get(ref), up.static_uri, cls.__name__ + " list entry")
            cls(reference=ref).delete()  # POST .../clear -> 204
            check(cls(reference=ref).read().static_uri != up.static_uri, cls.__name__ + " clear did not revert")
    finally:
        os.remove(png)


def subtenant_branding(ctx):
    acc = ctx.subtenant()
    root_color = DarkThemeColor(reference="primary").read().color
    for cls, listing in ((SubtenantDarkThemeColor, acc.dark_theme_branding_colors),
                         (SubtenantLightThemeColor, acc.light_theme_branding_colors)):
        color = random_color()
        cls(reference="secondary", color=color).update(account_id=acc.id)
        eq(cls(reference="secondary").read(account_id=acc.id).color, color, cls.__name__ + " read back")
        eq({c.reference: c.color for c in listing()}.get("secondary"), color, cls.__name__ + " account listing")
        cls(reference="secondary").delete(account_id=acc.id)
        check(cls(reference="secondary").read(account_id=acc.id).color != color, cls.__name__ + " reset")
    eq(DarkThemeColor(reference="primary").read().color, root_color, "tenant branding changed the root account")
    png = make_png_file((255, 0, 0))
    try:
        for cls, listing in ((SubtenantLightThemeImage, acc.light_theme_branding_images),
                             (SubtenantDarkThemeImage, acc.dark_theme_branding_images)):
            up = cls(reference="brand_logo_landscape").update(account_id=acc.id, image=png)
            check(up.static_uri, cls.__name__ + " upload lacks static_uri")
            eq(cls(reference="brand_logo_landscape").read(account_id=acc.id).static_uri, up.static_uri,
               cls.__name__ + " read back")
            eq({i.reference: i.static_uri for i in listing()}.get("brand_logo_landscape"), up.static_uri,
               cls.__name__ + " account listing")
            cls(reference="brand_logo_landscape").delete(account_id=acc.id)
            check(cls(reference="brand_logo_landscape").read(account_id=acc.id).static_uri != up.static_uri,
                  cls.__name__ + " clear did not revert")
    finally:
        os.remove(png)


SCENARIOS = [theme_colors, theme_images, subtenant_branding]
