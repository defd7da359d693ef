package scheduling

import "errors"

// RuleError is a booking refused by a rule of the domain. Code is the stable
// API code; Message is readable Chinese for the candidate.
type RuleError struct {
	Code    string
	Message string
}

func (e *RuleError) Error() string { return e.Code + ": " + e.Message }

// Refusals by the booking rules of DOMAIN.md §Booking and §Priority lane.
var (
	ErrSlotFull           = &RuleError{"slot_full", "该场次已约满"}
	ErrAlreadyBooked      = &RuleError{"already_booked", "该科目已有有效预约，每个科目同时只能预约一个场次"}
	ErrAlreadyPassed      = &RuleError{"already_booked", "该科目已考试合格，无需再次预约"}
	ErrAttemptsExhausted  = &RuleError{"attempts_exhausted", "本学习驾驶证明有效期内该科目预约考试次数已满5次"}
	ErrCooldown           = &RuleError{"cooldown", "考试不合格后须间隔10日以上方可再次预约该科目"}
	ErrWaitingPeriod      = &RuleError{"waiting_period", "距学习驾驶证明签发未满规定天数，暂不能预约该科目"}
	ErrPermitExpired      = &RuleError{"permit_expired", "学习驾驶证明在考试日已过有效期"}
	ErrSubject1Missing    = &RuleError{"subject1_missing", "须先通过科目一考试"}
	ErrRoadTestsMissing   = &RuleError{"subject1_missing", "预约安全文明驾驶常识考试须先通过科目一、科目二和科目三"}
	ErrClassMismatch      = &RuleError{"class_mismatch", "该场次的准驾车型与您申请的准驾车型不符"}
	ErrBookingClosed      = &RuleError{"booking_closed", "该场次不在预约受理时间内"}
	ErrCombinedInvalid    = &RuleError{"combined_invalid", "联考须为同一天的科目二和科目三场次，且科目二场次在科目三开始前结束"}
	ErrNotAccessible      = &RuleError{"not_accessible", "该场次不满足您登记的无障碍需求（无障碍考场或专用改装车）"}
	ErrCancelClosed       = &RuleError{"cancel_closed", "考试前一日24时后不能自行取消预约，请联系考场工作人员"}
	ErrNotConfirmed       = &RuleError{"not_confirmed", "该预约已取消或已考试，不能再取消"}
	ErrDuplicateCandidate = &RuleError{"duplicate_candidate", "该身份证号码已登记考生信息"}
	ErrIdempotencyReused  = &RuleError{"idempotency_key_reused", "Idempotency-Key 已用于另一个请求"}
	// ErrRequestDecided refuses to decide a priority-lane request that
	// another member of staff has already granted or declined.
	ErrRequestDecided = &RuleError{"request_decided", "该申请已由其他工作人员处理"}
)

// ErrNotFound means the object does not exist, or is not the caller's to see.
var ErrNotFound = errors.New("not found")

// FieldError is input that fails validation; Field names the first bad field.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

func invalid(field, message string) error { return &FieldError{Field: field, Message: message} }
