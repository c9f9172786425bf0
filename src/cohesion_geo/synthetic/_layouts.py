"""Raw layouts copied from the real public files (column names and order only).

The headers are constants so that the synthetic files keep the exact layout of
INSEE / IGN / DGCL files even where the real data directory is absent; the test
suite compares them with the real headers when the data directory exists.
"""

from __future__ import annotations

__all__ = [
    "BPE_2020_COLUMNS",
    "DGCL_FINANCE_COLUMNS",
    "FILOSOFI_2015_COLUMNS",
    "FILOSOFI_IRIS_2018_COLUMNS",
    "IRIS_CONTOUR_COLUMNS",
    "REPORT_COLUMNS",
    "URBAN_UNIT_COLUMNS",
]

#: INSEE Filosofi 2015, 200 m cells, raw CSV header (``,``-separated).
FILOSOFI_2015_COLUMNS: tuple[str, ...] = (
    "Idcar_200m", "IdINSPIRE", "Id_carr1km", "I_est_cr", "Id_carr_n", "Groupe", "Depcom",
    "I_pauv", "Id_car2010", "Ind", "Men", "Men_pauv", "Men_1ind", "Men_5ind", "Men_prop",
    "Men_fmp", "Ind_snv", "Men_surf", "Men_coll", "Men_mais", "Log_av45", "Log_45_70",
    "Log_70_90", "Log_ap90", "Log_inc", "Log_soc", "Ind_0_3", "Ind_4_5", "Ind_6_10",
    "Ind_11_17", "Ind_18_24", "Ind_25_39", "Ind_40_54", "Ind_55_64", "Ind_65_79", "Ind_80p",
    "Ind_inc", "I_est_1km",
)  # fmt: skip

#: Age bands of the 2015 grid (they sum to ``Ind``).
AGE_COLUMNS: tuple[str, ...] = (
    "Ind_0_3", "Ind_4_5", "Ind_6_10", "Ind_11_17", "Ind_18_24", "Ind_25_39", "Ind_40_54",
    "Ind_55_64", "Ind_65_79", "Ind_80p", "Ind_inc",
)  # fmt: skip

#: Dwellings by construction period (they sum to ``Men``).
DWELLING_AGE_COLUMNS: tuple[str, ...] = ("Log_av45", "Log_45_70", "Log_70_90", "Log_ap90", "Log_inc")

#: INSEE BPE 2020 (``;``-separated, ``NA`` for missing values).
BPE_2020_COLUMNS: tuple[str, ...] = (
    "AAV2020", "AN", "BV2012", "COUVERT", "DCIRIS", "DEP", "DEPCOM", "ECLAIRE", "EPCI",
    "LAMBERT_X", "LAMBERT_Y", "NBSALLES", "NB_AIREJEU", "QUALITE_XY", "REG", "TYPEQU", "UU2020",
)  # fmt: skip

#: INSEE Filosofi 2018 income by IRIS, ``BASE_TD_FILO_DISP_IRIS_2018`` (``;``).
FILOSOFI_IRIS_2018_COLUMNS: tuple[str, ...] = (
    "IRIS", "DISP_TP6018", "DISP_Q118", "DISP_MED18", "DISP_Q318", "DISP_EQ18", "DISP_D118",
    "DISP_D218", "DISP_D318", "DISP_D418", "DISP_D618", "DISP_D718", "DISP_D818", "DISP_D918",
    "DISP_RD18", "DISP_S80S2018", "DISP_GI18", "DISP_PACT18", "DISP_PTSA18", "DISP_PCHO18",
    "DISP_PBEN18", "DISP_PPEN18", "DISP_PPAT18", "DISP_PPSOC18", "DISP_PPFAM18",
    "DISP_PPMINI18", "DISP_PPLOGT18", "DISP_PIMPOT18", "DISP_NOTE18",
)  # fmt: skip

#: DGCL commune table (Latin-1, ``;``, CRLF, strings quoted).
DGCL_FINANCE_COLUMNS: tuple[str, ...] = (
    "CodeCom", "NomCom", "CodeDep", "AnneeCreationCom", "PopDGF2017", "PopDGF2018",
    "PopInsee2018", "DF2016", "DF2017", "DF2018", "PF4Taxes2017", "PF4Taxes2018", "RRF2018",
    "PartDynPop", "MtEcretement",
)  # fmt: skip

#: IGN Contours...IRIS attribute fields (upper-case flavour).
IRIS_CONTOUR_COLUMNS: tuple[str, ...] = ("INSEE_COM", "NOM_COM", "IRIS", "CODE_IRIS", "NOM_IRIS", "TYP_IRIS")

#: INSEE composition of urban units (2020 zoning), the columns we write (``;``).
URBAN_UNIT_COLUMNS: tuple[str, ...] = (
    "CODGEO", "LIBGEO", "UU2020", "LIBUU2020", "TYPE_COMMUNE_UU", "DEP", "REG",
)  # fmt: skip

#: Resident reports (signalements), the project's own CSV layout (``,``, UTF-8).
REPORT_COLUMNS: tuple[str, ...] = ("lon", "lat", "category", "comment", "date", "source")
