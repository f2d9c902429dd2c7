"""SACoche's profile table, as the simulator and the bot each hold it, pinned to the real one
(`sacoche_user_profil`): the staff functions the teachers' import keeps, their types and the names
SACoche prints. The two copies are written apart on purpose; this test keeps them in step."""
from __future__ import annotations

from datetime import date

from schoolfiles.staff import STAFF_FUNCTIONS
from sim import datagen
from sim.sacoche import siecle
from sim.sacoche.profiles import PROFILES, STAFF

YEAR = date.today().year if date.today().month >= 8 else date.today().year - 1


def test_the_bot_and_the_simulator_keep_the_same_staff_functions_with_the_same_names():
    assert set(STAFF) == set(STAFF_FUNCTIONS) == set(datagen.KEPT_FUNCTIONS)
    for code, function in STAFF_FUNCTIONS.items():
        profile = PROFILES[code]
        assert (function.profile_type, function.singular, function.plural) == \
            (profile.type, profile.long_singular, profile.long_plural), code


def test_the_real_profile_table_facts_the_simulator_relies_on():
    # Real SACoche: IEX is kept (type professeur, "intervenant"); LAB is no SACoche profile at all.
    assert PROFILES["IEX"].type == "professeur" and PROFILES["IEX"].short_singular == "intervenant"
    assert "LAB" not in PROFILES and PROFILES["INS"].type == "inspecteur"
    assert PROFILES["AED"].long_singular == "assistant d'éducation (AED)"
    assert PROFILES["SUR"].long_plural == "personnels de surveillance"


def test_step_20_counts_each_profile_in_the_order_the_file_first_names_it(tmp_path):
    data = datagen.generate_school(datagen.SchoolSpec(uai="0341234G", year=YEAR, students=6, teachers=3,
                                                      seed=5, support_staff=True))
    sts = datagen.write_school_files(data, tmp_path)["sts"].read_bytes()
    _, lines = siecle.extract("professeurs", sts, "0341234G", str(YEAR), date.today(), {})
    profile_lines = [line for line in lines if "trouvé" in line and "classe" not in line and "groupe" not in line]
    # The file lists the 3 teachers, then the director, the CPE and the librarian (LAB is skipped).
    assert profile_lines == ["3 personnels enseignants trouvés.", "1 personnel de direction trouvé.",
                             "1 conseiller d'éducation (CPE) trouvé.", "1 professeur documentaliste trouvé."]
