-- The purposes of use a sign-in's session is limited to (named when its code was redeemed): every refresh token of the
-- family carries them on, and a refresh may only narrow them. NULL: the session names none (any supported purpose).
ALTER TABLE auth_refresh_token ADD COLUMN purpose_of_use text[];
