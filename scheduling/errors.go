package scheduling

import "examd/internal/refusal"

// Refusals by the booking rules of docs/DOMAIN.md §Booking and §Priority
// lane. Each code means one condition.
var (
	ErrSlotFull          = refusal.New("slot_full", "该场次已约满")
	ErrAlreadyBooked     = refusal.New("already_booked", "该科目已有有效预约，每个科目同时只能预约一个场次")
	ErrAlreadyPassed     = refusal.New("already_passed", "该科目已考试合格，无需再次预约")
	ErrAttemptsExhausted = refusal.New("attempts_exhausted", "本学习驾驶证明有效期内该科目预约考试次数已满5次")
	ErrCooldown          = refusal.New("cooldown", "考试不合格后须间隔10日以上方可再次预约该科目")
	ErrWaitingPeriod     = refusal.New("waiting_period", "距学习驾驶证明签发未满规定天数，暂不能预约该科目")
	ErrPermitExpired     = refusal.New("permit_expired", "学习驾驶证明在考试日已过有效期")
	ErrSubject1Missing   = refusal.New("subject1_missing", "须先通过科目一考试")
	ErrRoadTestsMissing  = refusal.New("road_tests_missing", "预约安全文明驾驶常识考试须先通过科目一、科目二和科目三")
	ErrClassMismatch     = refusal.New("class_mismatch", "该场次的准驾车型与您申请的准驾车型不符")
	ErrBookingClosed     = refusal.New("booking_closed", "该场次不在预约受理时间内")
	ErrCombinedInvalid   = refusal.New("combined_invalid", "联考须为同一天的科目二和科目三场次，且科目二场次在科目三开始前结束")
	// ErrPackageRequired refuses three slots in one request from a
	// candidate who holds no package grant in force (BK-PACKAGE).
	ErrPackageRequired = refusal.New("package_required", "一次预约三个科目（全科考试）须经考场工作人员办理套餐")
	// ErrPackageInvalid refuses three slots that are not a subject 2, a
	// subject 3 and a subject 4 slot of one day, each over before the next
	// begins (BK-PACKAGE).
	ErrPackageInvalid     = refusal.New("package_invalid", "全科考试须为同一天的科目二、科目三和科目四场次，且依次进行、时间不重叠")
	ErrNotAccessible      = refusal.New("not_accessible", "该场次不满足您登记的无障碍需求（无障碍考场或专用改装车）")
	ErrCancelClosed       = refusal.New("cancel_closed", "考试前一日24时后不能自行取消预约，请联系考场工作人员")
	ErrNotConfirmed       = refusal.New("not_confirmed", "该预约已取消或已考试，不能再取消")
	ErrDuplicateCandidate = refusal.New("duplicate_candidate", "该身份证号码已登记考生信息")
	ErrIdempotencyReused  = refusal.New("idempotency_key_reused", "Idempotency-Key 已用于另一个请求")
	// ErrRequestDecided refuses to decide a priority-lane request that
	// another member of staff has already granted or declined.
	ErrRequestDecided = refusal.New("request_decided", "该申请已由其他工作人员处理")
	// ErrMoveMismatch refuses a move whose new slots do not stand for the
	// booking moved: the same subject, or, for a combined booking
	// (BK-COMBINED), a subject 2 and subject 3 pair, so the pair moves whole.
	ErrMoveMismatch = refusal.New("move_mismatch", "改约的新场次须与原预约的科目相同；联考预约须整对改约，请同时选择同一天的科目二和科目三场次")
)

// Waitlist refusals (RA-WAIT).
var (
	// ErrSlotNotFull refuses to put on the waitlist a candidate who can
	// book a seat of the slot now.
	ErrSlotNotFull = refusal.New("slot_not_full", "该场次尚有名额，请直接预约")
	// ErrWaitlistJoined refuses a second live waitlist entry of a candidate for one slot.
	ErrWaitlistJoined = refusal.New("waitlist_joined", "您已在该场次的候补队列中")
	// ErrNotAnOffer refuses to decline a booking the waitlist did not offer.
	ErrNotAnOffer = refusal.New("not_waitlist_offer", "该预约不是候补补位的名额，如需取消请使用取消预约")
	// ErrOfferKept refuses to keep or decline an offer that is kept already:
	// the candidate kept it, or its cancel deadline passed (RA-WAIT).
	ErrOfferKept = refusal.New("offer_kept", "该候补名额已确认保留，不能再放弃；如不能参加，请取消预约")
	// ErrOfferDeclined refuses to keep an offer the candidate gave back.
	ErrOfferDeclined = refusal.New("offer_declined", "该候补名额已放弃，名额已转给下一位候补考生")
)

func invalid(field, message string) error { return refusal.Invalid(field, message) }
