"""AD-CGAN's normality score NS(x) = L_Gr + L_Fr (paper section 2.2, eqs 4-5) and its Table 4 ablations.

Despite its name, a higher NS means a MORE anomalous image: every term is a reconstruction
error. The four per-image terms come from ADCGAN.score_terms() as means over elements:

- image_error   L_GR = |x - G(E(x))| on the authors' [0, 1] pixel scale, the residual loss;
- feature_error L_GD = |f_D(x) - f_D(G(E(x)))|, f_D = penultimate critic features;
- encoded_error L_FE = |E(x) - E(G(E(x)))|;
- latent_error  L_FL = |D_z(E(G(z)), z) - D_z(E(x), E(G(z)))| for a fixed random z.

Eq 4: L_Gr = lambda L_GD + (1 - lambda) L_GR and L_Fr = rho L_FE + (1 - rho) L_FL, with
lambda = 0.1 and rho = 0.5 in every experiment of the paper.
"""

LAMBDA = 0.1
RHO = 0.5
# The full score first, then the Table 4 (appendix A.5) ablations, each keeping the generation
# reconstruction loss L_Gr; with the names the paper's tables print.
SCORE_NAMES = {"gf": "AD-CGAN (NS)", "lg": "AD-CGAN_LG", "lfe": "AD-CGAN_LFE", "lfl": "AD-CGAN_LFL"}
SCORES = tuple(SCORE_NAMES)


def normality_score(terms, lambda_=LAMBDA, rho=RHO, score="gf"):
    """Eqs 4-5: NS = (1-lambda) L_GR + lambda L_GD + rho L_FE + (1-rho) L_FL, or a Table 4 ablation.

    terms maps "image_error", "feature_error", "encoded_error" and "latent_error" to per-image
    numpy arrays or tensors (the arithmetic works on both). The scores of Table 4:
    "lg"  AD-CGAN_LG, the generation reconstruction loss L_Gr only;
    "lfe" AD-CGAN_LFE, L_Gr + L_FE (rho = 1, so `rho` is ignored);
    "lfl" AD-CGAN_LFL, L_Gr + L_FL (rho = 0, so `rho` is ignored);
    "gf"  AD-CGAN_GF, the full score L_Gr + L_Fr.
    """
    if score not in SCORES:
        raise ValueError(f"score must be one of {', '.join(SCORES)}; got {score!r}")
    generation = (1.0 - lambda_) * terms["image_error"] + lambda_ * terms["feature_error"]
    if score == "lg":
        return generation
    if score == "lfe":
        return generation + terms["encoded_error"]
    if score == "lfl":
        return generation + terms["latent_error"]
    return generation + rho * terms["encoded_error"] + (1.0 - rho) * terms["latent_error"]
