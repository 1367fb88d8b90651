"""The login, activation and password-reset forms (Flask-WTF: CSRF token included), with German messages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp

from identity.domain.password_policy import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, PASSWORD_HINT


class LoginForm(FlaskForm):
    login = StringField(
        "Benutzername, E-Mail-Adresse oder Azubinummer",
        validators=[
            DataRequired(
                "Bitte geben Sie Ihren Benutzernamen, Ihre E-Mail-Adresse oder Ihre Azubinummer ein."
            ),
            Length(max=254, message="Die Eingabe ist zu lang."),
        ],
    )
    password = PasswordField(
        "Passwort",
        validators=[
            DataRequired("Bitte geben Sie Ihr Passwort ein."),
            Length(max=MAX_PASSWORD_LENGTH, message="Die Eingabe ist zu lang."),
        ],
    )


def new_password_field(label: str = "Neues Passwort") -> PasswordField:
    return PasswordField(
        label,
        description=PASSWORD_HINT,
        validators=[
            DataRequired("Bitte wählen Sie ein Passwort."),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=MAX_PASSWORD_LENGTH,
                message=f"Das Passwort muss mindestens {MIN_PASSWORD_LENGTH} und höchstens "
                f"{MAX_PASSWORD_LENGTH} Zeichen lang sein.",
            ),
        ],
    )


def password_repeat_field(label: str = "Neues Passwort wiederholen") -> PasswordField:
    return PasswordField(
        label,
        validators=[
            DataRequired("Bitte wiederholen Sie das Passwort."),
            EqualTo("password", message="Die beiden Passwörter stimmen nicht überein."),
        ],
    )


class ActivationForm(FlaskForm):
    apprentice_number = StringField(
        "Azubinummer",
        validators=[
            DataRequired("Bitte geben Sie Ihre Azubinummer ein."),
            Regexp(r"^\s*\d{8}\s*$", message="Die Azubinummer besteht aus 8 Ziffern."),
        ],
    )
    activation_code = StringField(
        "Aktivierungscode",
        validators=[
            DataRequired("Bitte geben Sie den Aktivierungscode aus Ihrer Eintragungsbestätigung ein."),
            Length(max=64, message="Die Eingabe ist zu lang."),
        ],
    )
    password = new_password_field()
    password_repeat = password_repeat_field()


class PasswordForgottenForm(FlaskForm):
    login = StringField(
        "Benutzername oder E-Mail-Adresse",
        description="Auszubildende geben bitte ihre Azubinummer ein.",
        validators=[
            DataRequired(
                "Bitte geben Sie Ihren Benutzernamen, Ihre E-Mail-Adresse oder Ihre Azubinummer ein."
            ),
            Length(max=254, message="Die Eingabe ist zu lang."),
        ],
    )


class PasswordResetForm(FlaskForm):
    password = new_password_field()
    password_repeat = password_repeat_field()


class RegistrationForm(FlaskForm):
    name = StringField(
        "Vor- und Nachname",
        validators=[
            DataRequired("Bitte geben Sie Ihren Vor- und Nachnamen ein."),
            Length(max=200, message="Der Name darf höchstens 200 Zeichen lang sein."),
        ],
    )
    email = StringField(
        "E-Mail-Adresse",
        validators=[
            DataRequired("Bitte geben Sie Ihre E-Mail-Adresse ein."),
            Length(max=254, message="Die E-Mail-Adresse ist zu lang."),
            Regexp(
                r"^\s*[^@\s]+@[^@\s]+\.[^@\s]+\s*$",
                message="Bitte geben Sie eine gültige E-Mail-Adresse ein, z. B. name@beispiel.de.",
            ),
        ],
    )
    password = new_password_field("Passwort")
    password_repeat = password_repeat_field("Passwort wiederholen")


class RegistrationConfirmForm(FlaskForm):
    password = PasswordField(
        "Ihr Passwort aus der Registrierung",
        validators=[
            DataRequired("Bitte geben Sie das Passwort ein, das Sie bei der Registrierung gewählt haben."),
            Length(max=MAX_PASSWORD_LENGTH, message="Die Eingabe ist zu lang."),
        ],
    )


class RegistrationLinkForm(FlaskForm):
    email = StringField(
        "E-Mail-Adresse",
        validators=[
            DataRequired("Bitte geben Sie Ihre E-Mail-Adresse ein."),
            Length(max=254, message="Die E-Mail-Adresse ist zu lang."),
        ],
    )
