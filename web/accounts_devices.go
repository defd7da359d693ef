package web

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/lib/pq"

	"examd/exam"
	"examd/internal/api"
	"examd/internal/auth"
	"examd/internal/refusal"
	"examd/scheduling"
)

// deviceRow is a judging device as the list shows it.
type deviceRow struct {
	exam.ListedDevice
	Key   string // the row's id: device-<id>
	Venue string
}

// deviceForm is what the new-device form shows again after a refusal.
type deviceForm struct {
	Venue, Name, Plate, Classes string
	Subjects                    []string // the subjects ticked: "2", "3", "4"
	Adapted                     bool
}

// Serves reports whether the form's subject box of subject is ticked.
func (f deviceForm) Serves(subject string) bool { return slices.Contains(f.Subjects, subject) }

// deviceSubjects are the subjects a device may serve, as the form offers
// them: an exam car 2, 3 or both, a theory terminal 4 (ED-ATTEMPT).
var deviceSubjects = []string{"2", "3", "4"}

// issuedKey is a device just registered and its key: the one page that
// answers the registration shows it, and nothing ever shows it again.
type issuedKey struct {
	Device exam.Device
	Venue  string
	Key    string
}

// devicesView is the data of the devices page.
type devicesView struct {
	Devices []deviceRow
	Venues  []scheduling.Venue
	Form    deviceForm
	// Refusal is the new-device form's, Retire a retire button's.
	Refusal formErrors
	Retire  *rowRefusal
	Issued  *issuedKey
}

// SubjectChoices are the subjects the form offers.
func (devicesView) SubjectChoices() []string { return deviceSubjects }

// RetireRefusal is the retire refusal to show in the row key, if any.
func (v devicesView) RetireRefusal(key string) *rowRefusal {
	if v.Retire != nil && v.Retire.Row == key {
		return v.Retire
	}
	return nil
}

func (h Handler) devicesPage(c echo.Context) error {
	return h.renderDevices(c, http.StatusOK, devicesView{})
}

// renderDevices lists the devices, active first, under the form to
// register one; v carries the form, a refusal or a key just issued.
func (h Handler) renderDevices(c echo.Context, status int, v devicesView) error {
	ctx := c.Request().Context()
	devices, err := h.Exams.Devices(ctx, 0)
	if err != nil {
		return err
	}
	if v.Venues, err = h.Scheduling.Venues(ctx); err != nil {
		return err
	}
	names := venueNames(v.Venues)
	v.Devices = make([]deviceRow, 0, len(devices))
	for _, d := range devices {
		v.Devices = append(v.Devices, deviceRow{ListedDevice: d, Key: "device-" + strconv.FormatInt(d.ID, 10), Venue: names[d.VenueID]})
	}
	if v.Retire != nil {
		for _, d := range v.Devices {
			v.Retire.Placed = v.Retire.Placed || d.Key == v.Retire.Row && d.RetiredAt == nil
		}
	}
	if v.Issued != nil {
		v.Issued.Venue = names[v.Issued.Device.VenueID]
	}
	return h.render(c, status, "admin_devices", "devices.title", v)
}

// addDevice registers a device (the store checks it as the API's POST
// /devices does) and answers with its key, this once: the page is rendered
// here, not redirected to, so that the key is never in a URL or a page
// that can be fetched again (pages are sent Cache-Control: no-store).
func (h Handler) addDevice(c echo.Context) error {
	req := c.Request()
	if err := req.ParseForm(); err != nil {
		return api.ErrBadRequest
	}
	f := req.PostForm
	form := deviceForm{Venue: f.Get("venue_id"), Name: f.Get("name"), Plate: strings.TrimSpace(f.Get("vehicle_plate")),
		Classes: f.Get("licence_classes"), Subjects: f["subjects"], Adapted: f.Get("adapted_vehicle") == "1"}
	d := exam.Device{Name: form.Name, VehiclePlate: form.Plate, AdaptedVehicle: form.Adapted,
		LicenceClasses: pq.StringArray(licenceClasses(form.Classes))}
	// The boxes give the subjects; Validate judges them as it does the API's.
	var unread refusal.List
	for _, s := range form.Subjects {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			unread = append(unread, refusal.Invalid("subjects", "malformed"))
			break
		}
		d.Subjects = append(d.Subjects, n)
	}
	if form.Venue != "" {
		n, err := strconv.ParseInt(form.Venue, 10, 64)
		if err != nil || n <= 0 {
			unread = append(unread, refusal.Invalid("venue_id", "malformed"))
		} else {
			d.VenueID = n
		}
	}
	// Every bad field at once: what the form could not read, and what
	// Validate refuses of the rest, before the store is asked.
	if err := alongside(unread, d.Validate()); err != nil {
		return h.refuseDevice(c, form, err)
	}
	d, key, err := h.Exams.CreateDevice(req.Context(), d, auth.Caller(c).UserID)
	if err != nil {
		return h.refuseDevice(c, form, err)
	}
	return h.renderDevices(c, http.StatusOK, devicesView{Issued: &issuedKey{Device: d, Key: key}})
}

// refuseDevice shows the new-device form again with each refused field
// next to its control; an err that is no field's refusal is returned.
func (h Handler) refuseDevice(c echo.Context, form deviceForm, err error) error {
	var fes formErrors
	for _, r := range refusal.All(err) {
		if r.Field == "" {
			return err
		}
		fes = append(fes, &formError{Field: r.Field, Key: "devices.err." + r.Field})
	}
	if fes == nil {
		return err
	}
	return h.renderDevices(c, http.StatusUnprocessableEntity, devicesView{Form: form, Refusal: fes})
}

// licenceClasses splits what the form's field holds ("C1 C2", "C1,C2",
// "C1、C2") into classes, upper-cased.
func licenceClasses(s string) []string {
	return strings.FieldsFunc(strings.ToUpper(s), func(r rune) bool {
		return r == ',' || r == '，' || r == '、' || r == ';' || r == ' ' || r == '\t' || r == '\r' || r == '\n'
	})
}

// retireDevice retires a device once its row's confirmation box is ticked:
// its key stops working at once, and this cannot be undone.
func (h Handler) retireDevice(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return refusal.ErrNotFound
	}
	row := "device-" + strconv.FormatInt(id, 10)
	if c.Request().PostFormValue("confirm") != "1" {
		return h.renderDevices(c, http.StatusUnprocessableEntity,
			devicesView{Retire: &rowRefusal{Row: row, Code: "confirm", Key: "devices.err.confirm"}})
	}
	err = h.Exams.RetireDevice(c.Request().Context(), id, auth.Caller(c).UserID, h.Now())
	if errors.Is(err, refusal.ErrNotFound) {
		// Unknown, or retired already (by another admin, or a second click).
		return h.renderDevices(c, http.StatusNotFound,
			devicesView{Retire: &rowRefusal{Row: row, Code: "not_found", Key: "devices.err.not_found"}})
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/devices?done=device_retired")
}
