"""Reference solutions for the exercises of Chapter 12. Try them yourself first."""

import minigrad as mg
import minigrad.nn.functional as F


# Exercise 1: for one dimension, KL(N(mu, s^2) || N(0, 1)) = E_q[log q(z) - log p(z)]
#   = -1/2 log s^2 - 1/2 + 1/2 (s^2 + mu^2)  (E_q[(z - mu)^2] = s^2, E_q[z^2] = s^2 + mu^2);
# the dimensions are independent, so their KLs add up
def gaussian_kl(mu, logvar):
    return 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(dim=1)


# Exercise 2: z = mu + sigma * eps with sigma = exp(logvar / 2); eps carries the randomness,
# so z is a differentiable function of mu and logvar
def reparameterize(mu, logvar, eps):
    return mu + (0.5 * logvar).exp() * eps


# Exercise 3: -log sigmoid(l) = softplus(-l), which F.binary_cross_entropy_with_logits computes
# without overflow at any logit; the generator wants its fakes labelled real (1)
def generator_loss(fake_logits):
    return F.binary_cross_entropy_with_logits(fake_logits, mg.ones_like(fake_logits))
