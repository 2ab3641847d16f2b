package console_test

// The settings screens in a real browser: settings.js shows and hides the
// fields that depend on others (SET-03, SET-06, SET-09, SET-16) and edits
// the fee table's rows, under the console's Content-Security-Policy
// (a violation fails the test).

import (
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/kessai/kessai"
)

// settingsVisible reports whether the element with the id is shown.
func (b *tab) settingsVisible(id string) bool {
	b.T.Helper()
	return run(b, chromedp.Evaluate[bool](`(function () { var el = document.getElementById(`+strconv.Quote(id)+
		`); return !!el && el.offsetParent !== null; })()`))
}

// settingsReady waits for settings.js to have run (it shows the copy
// button of the notification URL).
func (b *tab) settingsReady() {
	b.T.Helper()
	b.WaitTrue(`(function () { var c = document.querySelector('[data-copy]'); return !!c && !c.hidden; })()`)
}

func (b *tab) settingsCount(css string) int {
	b.T.Helper()
	return run(b, chromedp.Evaluate[int](`document.querySelectorAll(`+strconv.Quote(css)+`).length`))
}

func TestBrowserSettingsCardToggles(t *testing.T) {
	e := newEnv(t)
	b := newTab(t, e)
	b.login(adminEmail)
	b.Open(settingsCardPath)
	b.settingsReady()
	want := func(id string, visible bool) {
		t.Helper()
		if got := b.settingsVisible(id); got != visible {
			t.Errorf("#%s visible = %v, want %v", id, got, visible)
		}
	}
	// Token type, no 3-D Secure: the token code shows; key, IV, the
	// chargeback notice and the production confirmation do not.
	want("card-token_auth_code", true)
	want("card-three_ds", true)
	want("card-aes_key", false)
	want("card-chargeback-link", false)
	want("confirm_production", false)
	want("card-always_register", true)

	b.Click("card-three_ds")
	want("card-aes_key", true)
	want("card-aes_iv", true)
	want("notify-url", true)

	b.Click("card-link_type")
	want("card-token_auth_code", false)
	want("card-three_ds", false)
	want("card-aes_key", true)
	want("card-chargeback-link", true)

	b.Click("card-members")
	want("card-always_register", false)

	b.Click("environment-production")
	want("confirm_production", true)
	want("settings-golive-reminder", true)

	// Hidden fields are still submitted: saving keeps 3DS on and the
	// token code, with link type on.
	b.Click("environment-simulator")
	b.Click("settings-save")
	b.WaitNotice("クレジットカード設定を保存しました。")
	s, _, err := e.Svc.GetSettings(e.Ctx, shopID)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Card.LinkType || !s.Card.ThreeDS || !s.Card.TokenAuthCode.IsSet() || s.Card.Members || s.Environment != kessai.EnvSimulator {
		t.Fatalf("saved %+v", s.Card)
	}
}

func TestBrowserSettingsFeeTable(t *testing.T) {
	e := newEnv(t)
	b := newTab(t, e)
	b.login(adminEmail)
	b.Open(settingsColPath)
	b.settingsReady()
	if b.settingsVisible("fee-table") {
		t.Fatal("fee table shown while the fee is off")
	}
	b.Click("collection-fee_enabled")
	// The blank rows for browsers without JavaScript are down to one.
	if n := b.settingsCount("#fee-rows tr"); n != 1 {
		t.Fatalf("%d rows", n)
	}
	row := func(i int) string { return "#fee-rows tr:nth-child(" + strconv.Itoa(i) + ") input" }
	typeCell := func(i, cell int, v string) {
		t.Helper()
		b.Do(chromedp.Evaluate[chromedp.Void](`document.querySelectorAll(` + strconv.Quote(row(i)) + `)[` + strconv.Itoa(cell) + `].value = ` + strconv.Quote(v)))
	}
	cellValue := func(i, cell int) string {
		t.Helper()
		return run(b, chromedp.Evaluate[string](`document.querySelectorAll(`+strconv.Quote(row(i))+`)[`+strconv.Itoa(cell)+`].value`))
	}
	typeCell(1, 0, "0")
	typeCell(1, 1, "1100")
	typeCell(1, 2, "0")
	b.Click("fee-insert")
	// A new row starts after the previous one.
	if got := cellValue(2, 0); got != "1101" {
		t.Fatalf("new row from = %q", got)
	}
	typeCell(2, 1, "5500")
	typeCell(2, 2, "330")
	b.Click("fee-insert")
	typeCell(3, 1, "*")
	typeCell(3, 2, "550")
	b.Click("fee-insert")
	if n := b.settingsCount("#fee-rows tr"); n != 4 {
		t.Fatalf("%d rows", n)
	}
	// Delete the second row, then the empty last one.
	b.Do(chromedp.Click(chromedp.CSS("#fee-rows tr:nth-child(2) [data-fee-delete]")))
	b.Do(chromedp.Click(chromedp.CSS("#fee-rows tr:nth-child(3) [data-fee-delete]")))
	if got := cellValue(2, 0); got != "5501" {
		t.Fatalf("row 2 from = %q after deleting", got)
	}
	typeCell(2, 0, "1101")
	b.Click("settings-save")
	b.WaitNotice("オンライン収納代行設定を保存しました。")
	b.settingsReady()
	s, _, err := e.Svc.GetSettings(e.Ctx, shopID)
	if err != nil {
		t.Fatal(err)
	}
	want := kessai.FeeTable{{From: 0, To: settingsPtr(1100), Fee: 0}, {From: 1101, Fee: 550}}
	if !s.Collection.FeeEnabled || !settingsSameRows(s.Collection.FeeRows, want) {
		t.Fatalf("rows %+v", s.Collection.FeeRows)
	}
	// After the reload: the two saved rows, no blank ones.
	if n := b.settingsCount("#fee-rows tr"); n != 2 {
		t.Fatalf("%d rows after reload: %s", n, run(b, chromedp.Evaluate[string](`document.getElementById('fee-rows').innerHTML`)))
	}
}
