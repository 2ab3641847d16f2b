package escott

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
)

// Notification is a payment notification (入金結果通知) the gateway sends to
// the merchant's registered URL when a collection is paid.
type Notification struct {
	MerchantID    string
	TransactionID string
	RecvNum       string
	NyukinDate    string
	MerchantFree1 string
	MerchantFree2 string
	CvsCd         string
	// Amount is 0 when the notification does not carry it.
	Amount int64
	// Fields keeps everything that was received.
	Fields url.Values
}

// notificationKeys are the six fields whose presence makes a request a
// payment notification (the plugins' recognition rule).
var notificationKeys = []string{"MerchantId", "TransactionId", "RecvNum", "NyukinDate", "MerchantFree1", "MerchantFree2"}

// IsNotification reports whether the fields are a payment notification.
// It is checked before any EncryptValue handling.
func IsNotification(fields url.Values) bool {
	for _, k := range notificationKeys {
		if strings.TrimSpace(fields.Get(k)) == "" {
			return false
		}
	}
	return true
}

// ErrNotNotification is returned for fields that are not a notification.
var ErrNotNotification = errors.New("escott: not a payment notification")

// maxNotificationField bounds each field; real values are short.
const maxNotificationField = 256

// ParseNotification validates and reads a payment notification. It checks
// form only; whether to believe it (merchant, order, transaction code and a
// confirming 2Ref) is the receiver's decision.
func ParseNotification(fields url.Values) (*Notification, error) {
	if !IsNotification(fields) {
		return nil, ErrNotNotification
	}
	for _, k := range append(notificationKeys, "CvsCd", "Amount") {
		if len(fields.Get(k)) > maxNotificationField {
			return nil, errors.New("escott: notification field " + k + " is too long")
		}
	}
	n := &Notification{
		MerchantID:    strings.TrimSpace(fields.Get("MerchantId")),
		TransactionID: strings.TrimSpace(fields.Get("TransactionId")),
		RecvNum:       strings.TrimSpace(fields.Get("RecvNum")),
		NyukinDate:    strings.TrimSpace(fields.Get("NyukinDate")),
		MerchantFree1: strings.TrimSpace(fields.Get("MerchantFree1")),
		MerchantFree2: strings.TrimSpace(fields.Get("MerchantFree2")),
		CvsCd:         strings.TrimSpace(fields.Get("CvsCd")),
		Fields:        fields,
	}
	if _, err := ParseNyukinDate(n.NyukinDate); err != nil {
		return nil, errors.New("escott: notification NyukinDate is not a date")
	}
	if a := strings.TrimSpace(fields.Get("Amount")); a != "" {
		v, err := strconv.ParseInt(a, 10, 64)
		if err != nil || v < 0 {
			return nil, errors.New("escott: notification Amount is not a number")
		}
		n.Amount = v
	}
	return n, nil
}
