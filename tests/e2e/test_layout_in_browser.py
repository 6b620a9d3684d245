"""Layout a person sees in Chromium: the confirmation-code field is wide enough to read, the
"Not confirmed yet" badge stays on one line, and a phone-wide account page does not scroll
sideways."""

from __future__ import annotations

import pytest

from tests.e2e.test_passkeys_in_browser import signed_up_page

pytestmark = pytest.mark.browser

LINE_HEIGHT = """e => {
  const style = getComputedStyle(e);
  return parseFloat(style.lineHeight) || 1.45 * parseFloat(style.fontSize);
}"""


async def test_the_account_page_at_desktop_and_phone_widths(live_server, context):
    page, _, _ = await signed_up_page(context, live_server, "lay")
    for width in (1280, 390):
        await page.set_viewport_size({"width": width, "height": 900})
        await page.reload()
        field = await page.locator("#email-code").bounding_box()
        assert field is not None and field["width"] >= 150, (width, field)
        badge = await page.locator("#email-unverified").bounding_box()
        line = await page.locator("#email-unverified").evaluate(LINE_HEIGHT)
        assert badge is not None and badge["height"] < 1.6 * line + 4, (width, badge, line)
        scroll = await page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, (width, scroll)
