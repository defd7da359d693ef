-- +goose Up
-- ED-SIGN: the candidate draws their signature on the examiner's tablet; the
-- drawing (a PNG of at most 64 KiB) is kept with the signature it belongs
-- to, on the score sheet's and on a correction's. Both tables stay
-- append-only (their triggers refuse UPDATE and DELETE): the image is given
-- with the signature, never added later.
ALTER TABLE attempt_signatures ADD COLUMN signature_png bytea
    CHECK (octet_length(signature_png) BETWEEN 1 AND 65536);
ALTER TABLE correction_signatures ADD COLUMN signature_png bytea
    CHECK (octet_length(signature_png) BETWEEN 1 AND 65536);
