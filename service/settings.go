package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/kessai/kessai"
)

// AnyVersion, as the expected version of UpdateSettings, applies the patch
// to whatever version is current. The read-modify-write is still atomic
// (the store checks the version it read), so a concurrent change makes
// the update fail with a conflict rather than be lost.
const AnyVersion int64 = -1

// GetSettings returns the shop's settings and their version. A shop that
// never saved any has the defaults at version 0. The value contains
// secrets: show clients only its Redacted view.
func (s *Service) GetSettings(ctx context.Context, shopID string) (kessai.Settings, int64, error) {
	return s.getSettings(ctx, s.store, shopID)
}

func (s *Service) getSettings(ctx context.Context, st kessai.Store, shopID string) (kessai.Settings, int64, error) {
	doc, version, err := st.GetSettings(ctx, shopID)
	if errors.Is(err, kessai.ErrNotFound) {
		return kessai.DefaultSettings(), 0, nil
	}
	if err != nil {
		return kessai.Settings{}, 0, storeErr(err, nil)
	}
	set, err := kessai.ParseSettings(doc)
	if err != nil {
		return kessai.Settings{}, 0, kessai.Internal(err)
	}
	return set, version, nil
}

// errVersionConflict tells the client to reload: someone saved meanwhile.
var errVersionConflict = kessai.Errorf(kessai.KindConflict, "settings_version_conflict",
	"設定が他の操作で更新されています。最新の設定を読み込んでからやり直してください。",
	"The settings were changed by someone else. Reload them and try again.")

// UpdateSettings applies a JSON merge patch (kessai.SettingsPatch) to the
// shop's settings, validates the result and stores it if the current
// version is expectedVersion (AnyVersion: whatever is current). It
// returns the new settings and version. Validation problems are
// kessai.ValidationErrors with JSON paths; a version mismatch is
// KindConflict "settings_version_conflict". A successful update is
// reported to Config.SettingsChanged.
func (s *Service) UpdateSettings(ctx context.Context, shopID string, patch []byte, expectedVersion int64) (kessai.Settings, int64, error) {
	cur, version, err := s.GetSettings(ctx, shopID)
	if err != nil {
		return kessai.Settings{}, 0, err
	}
	if expectedVersion != AnyVersion && expectedVersion != version {
		return kessai.Settings{}, 0, errVersionConflict
	}
	if err := cur.Apply(kessai.SettingsPatch(patch)); err != nil {
		var v kessai.ValidationErrors
		if errors.As(err, &v) {
			return kessai.Settings{}, 0, v
		}
		return kessai.Settings{}, 0, kessai.Internal(err)
	}
	doc, err := json.Marshal(cur)
	if err != nil {
		return kessai.Settings{}, 0, kessai.Internal(fmt.Errorf("service: marshal settings: %w", err))
	}
	nv, err := s.store.PutSettings(ctx, shopID, doc, version)
	if errors.Is(err, kessai.ErrConflict) || errors.Is(err, kessai.ErrDuplicate) {
		return kessai.Settings{}, 0, errVersionConflict
	}
	if err != nil {
		return kessai.Settings{}, 0, storeErr(err, nil)
	}
	if s.settingsChanged != nil {
		s.settingsChanged(shopID, cur)
	}
	return cur, nv, nil
}
